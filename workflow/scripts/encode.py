"""Rule encode: latent means of every example (see latentwalk.stages.encode)."""

from latentwalk.logs import job_log
from latentwalk.stages.encode import encode

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    encode(
        data_npz=snakemake.input.data,
        model_pt=snakemake.input.model,
        meta_json=snakemake.input.meta,
        dim=int(snakemake.wildcards.dim),
        batch_size=snakemake.params.batch_size,
        device=snakemake.params.device,
        out_parquet=snakemake.output[0],
        log=log,
    )
