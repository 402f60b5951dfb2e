"""Rule project: a run's encoded test points in the plane (see latentwalk.stages.explorer)."""

from latentwalk.logs import job_log
from latentwalk.stages.explorer import project

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    project(
        run=f"{sm.wildcards.dataset}/{sm.wildcards.model}-z{sm.wildcards.dim}",
        latents=sm.input.latents,
        method=sm.params.method,
        max_points=sm.params.max_points,
        seed=sm.params.seed,
        out_parquet=sm.output[0],
        log=log,
    )
