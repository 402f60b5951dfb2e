"""Rule verify: check results/ against the manifest and the job records (latentwalk.report.audit.check)."""

from latentwalk.core.logs import job_log
from latentwalk.report.audit import check

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    check(
        results=sm.params.results,
        manifest=sm.params.manifest,
        log=log,
    )
