"""Rule plot_run: the four figures every run has (see latentwalk.stages.figures_run)."""

from latentwalk.logs import job_log
from latentwalk.stages.figures_run import plot_run

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_run(
        run=f"{sm.wildcards.dataset}/{sm.wildcards.model}-z{sm.wildcards.dim}",
        history_csv=sm.input.history,
        latents=sm.input.latents,
        path_norms_csv=sm.input.path_norms,
        quality_csv=sm.input.quality,
        quality_summary_csv=sm.input.quality_summary,
        max_points=sm.params.max_points,
        projection=sm.params.projection,
        seed=sm.params.seed,
        out=dict(sm.output.items()),
        log=log,
    )
