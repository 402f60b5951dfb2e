"""Rule generate_paths: every path method that applies to one run (latentwalk.walks.generate.generate_paths)."""

from latentwalk.core.logs import job_log
from latentwalk.walks.generate import generate_paths

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    generate_paths(
        run=sm.params.run,
        methods=sm.params.methods,
        latents=sm.input.latents,
        params=dict(sm.params.items()),
        out_dir=sm.output[0],
        made=sm.input.get("made"),
        log=log,
    )
