"""Rule verify: check results/ against the manifest and the job records (see latentwalk.audit)."""

from latentwalk.audit import check
from latentwalk.logs import job_log

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    check(snakemake.params.results, snakemake.params.manifest, log)  # noqa: F821
