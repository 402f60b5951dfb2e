"""Rule norm_concentration: |z| of Gaussian samples against chi(d) (latentwalk.measure.norms.norm_concentration)."""

from latentwalk.core.logs import job_log
from latentwalk.measure.norms import norm_concentration

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    norm_concentration(
        dims=sm.params.dims,
        n=sm.params.n,
        seed=sm.params.seed,
        chunk_elements=sm.params.chunk_elements,
        bins=sm.params.bins,
        out_csv=sm.output.table,
        out_hist=sm.output.histograms,
        log=log,
    )
