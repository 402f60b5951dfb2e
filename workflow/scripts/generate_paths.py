"""Rule generate_paths: every path method that applies to one run, taking in the decoder_paths tables (see
latentwalk.stages.paths)."""

from latentwalk.logs import job_log
from latentwalk.stages.paths import generate_paths

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    generate_paths(
        run=f"{sm.wildcards.dataset}/{sm.wildcards.model}-z{sm.wildcards.dim}",
        methods=sm.params.methods,
        latents=sm.input.latents,
        settings=sm.params.settings,
        seed=sm.params.seed,
        out_dir=sm.output[0],
        made=sm.input.get("made"),
        log=log,
    )
