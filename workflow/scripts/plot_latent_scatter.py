"""Rule plot_latent_scatter: encoded test means of one run, coloured by label."""

from latentwalk.logs import job_log
from latentwalk.stages.figures import plot_latents

w = snakemake.wildcards  # noqa: F821 (injected by Snakemake)
with job_log(snakemake.log[0]) as log:  # noqa: F821
    plot_latents(
        snakemake.input.latents,  # noqa: F821
        f"{w.dataset}/{w.model}-z{w.dim}",
        snakemake.params.max_points,  # noqa: F821
        snakemake.params.seed,  # noqa: F821
        snakemake.output.png,  # noqa: F821
        snakemake.output.svg,  # noqa: F821
        projection=snakemake.params.projection,  # noqa: F821
        log=log,
    )
