"""Rule plot_comparison: one dataset's runs side by side (see latentwalk.stages.compare)."""

from latentwalk.logs import job_log
from latentwalk.stages.compare import plot_comparison

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    o = snakemake.output  # noqa: F821
    plot_comparison(snakemake.input.runs, snakemake.wildcards.dataset, o.png, o.svg, log)  # noqa: F821
