"""Rule norm_concentration: |z| of N(0, I_d) samples against chi(d), per dim (see latentwalk.stages.geometry)."""

from latentwalk.logs import job_log
from latentwalk.stages.geometry import norm_concentration

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    p = snakemake.params
    norm_concentration(p.dims, p.n, p.seed, p.chunk_elements, p.bins, snakemake.output.table, snakemake.output.histograms, log)
