"""Rule encode: the latent means of every example (latentwalk.model.encode.encode)."""

from latentwalk.core.logs import job_log
from latentwalk.model.encode import encode

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    encode(
        data_npz=sm.input.data,
        model_files=dict(sm.input.items()),
        dim=int(sm.wildcards.dim),
        batch_size=sm.params.batch_size,
        device=sm.params.device,
        out_parquet=sm.output[0],
        log=log,
        threads=sm.threads,
    )
