"""Rule plot_geometry: the hypersphere, norm-concentration and unit-sphere spiral figures (see latentwalk.stages.figures_geometry)."""

from latentwalk.logs import job_log
from latentwalk.stages.figures_geometry import plot_geometry

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    i = sm.input
    plot_geometry(dict(zip(sm.params.dims, i.spirals)), i.hypersphere, i.norms, i.histograms, sm.output[0], log)
