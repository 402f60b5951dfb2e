"""Rule plot_view_walks: a views run's figures (as plot_walks) and viewpoint figures (see latentwalk.stages.figures_views)."""

from latentwalk.logs import job_log
from latentwalk.stages.figures_views import plot_view_walks

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_view_walks(
        run=f"{sm.wildcards.dataset}/{sm.wildcards.model}-z{sm.wildcards.dim}",
        methods=sm.params.methods,
        paths_dir=sm.input.paths,
        decoded_dir=sm.input.decoded,
        latent_dim=int(sm.wildcards.dim),
        path_norms_csv=sm.input.path_norms,
        quality_csv=sm.input.quality,
        quality_summary_csv=sm.input.quality_summary,
        views=sm.params.views,
        strip_pairs=sm.params.strip_pairs,
        fps=sm.params.fps,
        out=dict(sm.output.items()),
        history_csv=sm.input.history,
        latents=sm.input.latents,
        scatter=sm.params.scatter,
        log=log,
    )
