"""Rule manifest: results/manifest.tsv from every job record (see latentwalk.audit)."""

from latentwalk.audit import write_manifest
from latentwalk.logs import job_log

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    log(f"{write_manifest(snakemake.params.results, snakemake.output[0])} artifacts in the manifest")  # noqa: F821
