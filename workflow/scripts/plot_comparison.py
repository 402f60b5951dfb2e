"""Rule plot_comparison: each dataset's runs side by side (see latentwalk.stages.compare)."""

from latentwalk.logs import job_log
from latentwalk.stages.compare import plot_comparison

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    plot_comparison(snakemake.input.runs, snakemake.params.datasets, snakemake.output[0], log)  # noqa: F821
