"""Rule hypersphere: unit-ball volumes and sphere surfaces for n = 1..n_max (see latentwalk.stages.geometry)."""

from latentwalk.logs import job_log
from latentwalk.stages.geometry import hypersphere

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    hypersphere(snakemake.params.n_max, snakemake.output[0], log)
