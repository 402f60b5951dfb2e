"""Rule plot_views: the viewpoint figures of a views run (see latentwalk.stages.figures_views)."""

from latentwalk.logs import job_log
from latentwalk.stages.figures_views import plot_views

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_views(
        run=f"{sm.wildcards.dataset}/{sm.wildcards.model}-z{sm.wildcards.dim}",
        methods=sm.params.methods,
        paths_dir=sm.input.paths,
        decoded_dir=sm.input.decoded,
        quality_csv=sm.input.quality,
        latents=sm.input.latents,
        views=sm.params.views,
        strip_pairs=sm.params.strip_pairs,
        out=dict(sm.output.items()),
        log=log,
    )
