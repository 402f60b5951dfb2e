"""Rule report: the Snakemake report of every artifact (latentwalk.report.snakemake_report.build_report)."""

from latentwalk.core.logs import job_log
from latentwalk.report.snakemake_report import build_report

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    build_report(
        snakefile=sm.params.snakefile,
        config=sm.params.config,
        targets=sm.params.targets,
        out_html=sm.output[0],
        log=log,
    )
