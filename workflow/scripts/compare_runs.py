"""Rule compare_runs: every run side by side, for sweeps (see latentwalk.stages.compare)."""

from latentwalk.logs import job_log
from latentwalk.stages.compare import compare_runs

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    i = snakemake.input  # noqa: F821
    compare_runs(snakemake.params.runs, list(i.metas), list(i.encoded_norms), i.summary, snakemake.output[0], log)  # noqa: F821
