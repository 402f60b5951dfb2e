"""Rule report: the Snakemake report of the whole run, built as a job of the DAG (see latentwalk.snakemake_report)."""

from latentwalk.snakemake_report import build_report
from latentwalk.logs import job_log

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    build_report(sm.params.snakefile, sm.params.config, sm.params.targets, sm.output[0], log)
