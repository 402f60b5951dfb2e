"""Rule plot_norm_concentration: norm histograms and shell width against d (see latentwalk.stages.figures_geometry)."""

from latentwalk.logs import job_log
from latentwalk.stages.figures_geometry import plot_norm_concentration

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_norm_concentration(sm.input.table, sm.input.histograms, dict(sm.output.items()), log)
