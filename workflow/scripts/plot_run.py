"""Rule plot_run: the run's training curves and latent scatter (see latentwalk.stages.figures_run)."""

from latentwalk.logs import job_log
from latentwalk.stages.figures_run import plot_run

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_run(
        run=f"{sm.wildcards.dataset}/{sm.wildcards.model}-z{sm.wildcards.dim}",
        history_csv=sm.input.history,
        latents=sm.input.latents,
        max_points=sm.params.max_points,
        projection=sm.params.projection,
        seed=sm.params.seed,
        out=dict(sm.output.items()),
        log=log,
    )
