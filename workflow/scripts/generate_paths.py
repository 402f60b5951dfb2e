"""Rule generate_paths: the latent points of one method for one run (see latentwalk.stages.paths)."""

from latentwalk.logs import job_log
from latentwalk.stages.paths import generate_paths

with job_log(snakemake.log[0]) as log:  # noqa: F821 (injected by Snakemake)
    generate_paths(
        method=snakemake.wildcards.method,
        latents=snakemake.input.latents,
        params=snakemake.params.settings,
        seed=snakemake.params.seed,
        out_parquet=snakemake.output[0],
        model_pt=snakemake.input.get("model"),
        meta_json=snakemake.input.get("meta"),
        device=snakemake.params.device,
        log=log,
    )
