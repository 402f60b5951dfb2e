"""Rule download_mnist: fetch one MNIST file from the configured base URL, SHA-256 verified."""

from pathlib import Path

from latentwalk.idx import download_mnist
from latentwalk.logs import job_log

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    target = Path(snakemake.output[0])
    sha = snakemake.params.sha256
    download_mnist(
        snakemake.params.base_url,
        target.parent,
        [target.name],
        {target.name: sha} if sha else {},
        timeout=snakemake.params.timeout,
    )
    log(f"downloaded {target}")
