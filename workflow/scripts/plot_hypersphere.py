"""Rule plot_hypersphere: unit-ball volume and sphere surface against n (see latentwalk.stages.figures_geometry)."""

from latentwalk.logs import job_log
from latentwalk.stages.figures_geometry import plot_hypersphere

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_hypersphere(sm.input.table, sm.output.png, sm.output.svg, log)
