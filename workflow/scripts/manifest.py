"""Rule manifest: every artifact with its SHA-256, size and producing rule (latentwalk.report.audit.manifest)."""

from latentwalk.core.logs import job_log
from latentwalk.report.audit import manifest

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    manifest(results=sm.params.results, out_tsv=sm.output[0], log=log)
