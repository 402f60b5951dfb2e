"""Rule hypersphere: unit-ball volumes and sphere surfaces (latentwalk.measure.norms.hypersphere)."""

from latentwalk.core.logs import job_log
from latentwalk.measure.norms import hypersphere

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    hypersphere(n_max=sm.params.n_max, out_csv=sm.output[0], log=log)
