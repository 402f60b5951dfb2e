"""Rule plot_geometry: every geometry figure (latentwalk.figures.geometry.plot_geometry)."""

from latentwalk.core.logs import job_log
from latentwalk.figures.geometry import plot_geometry

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_geometry(
        spirals=dict(zip(sm.params.dims, sm.input.spirals)),
        hypersphere_csv=sm.input.hypersphere,
        norm_csv=sm.input.norms,
        hist_csv=sm.input.histograms,
        out_dir=sm.output[0],
        log=log,
    )
