"""Rule download_mnist: fetch one MNIST file, SHA-256 verified (latentwalk.data.idx.download_mnist_file)."""

from latentwalk.core.logs import job_log
from latentwalk.data.idx import download_mnist_file

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    download_mnist_file(
        base_url=sm.params.base_url,
        target=sm.output[0],
        sha256=sm.params.sha256,
        timeout=sm.params.timeout,
        log=log,
    )
