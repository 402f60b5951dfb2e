"""Rule compare_runs: one row per run, for sweeps (latentwalk.measure.summary.compare_runs)."""

from latentwalk.core.logs import job_log
from latentwalk.measure.summary import compare_runs

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    compare_runs(
        runs=sm.params.runs,
        scorers=sm.params.scorers,
        inputs=dict(sm.input.items()),
        out_csv=sm.output[0],
        log=log,
    )
