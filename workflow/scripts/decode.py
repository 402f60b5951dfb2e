"""Decode rules: every path table of one run, with its decoder (see latentwalk.stages.decode)."""

from latentwalk.logs import job_log
from latentwalk.stages.decode import decode_paths

with job_log(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    decode_paths(
        path_tables=list(snakemake.input.paths),
        model_pt=snakemake.input.model,
        meta_json=snakemake.input.meta,
        batch_size=snakemake.params.batch_size,
        device=snakemake.params.device,
        out_npz=list(snakemake.output),
        log=log,
    )
