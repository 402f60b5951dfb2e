"""Rule decode: decode every path table of one run (latentwalk.model.decode.decode_paths)."""

from latentwalk.core.logs import job_log
from latentwalk.model.decode import decode_paths

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    decode_paths(
        paths_dir=sm.input.paths,
        methods=sm.params.methods,
        model_files=dict(sm.input.items()),
        batch_size=sm.params.batch_size,
        device=sm.params.device,
        out_dir=sm.output[0],
        log=log,
        threads=sm.threads,
    )
