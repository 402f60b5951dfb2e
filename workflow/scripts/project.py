"""Rule project: a run's encoded test points in the plane and its decoder for the explorer page (see
latentwalk.stages.explorer)."""

from latentwalk.logs import job_log
from latentwalk.stages.explorer import project

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    project(
        run=f"{sm.wildcards.dataset}/{sm.wildcards.model}-z{sm.wildcards.dim}",
        latents=sm.input.latents,
        model_pt=sm.input.model,
        meta_json=sm.input.meta,
        method=sm.params.method,
        max_points=sm.params.max_points,
        seed=sm.params.seed,
        selftest_frames=sm.params.selftest_frames,
        out_parquet=sm.output.projection,
        out_decoder=sm.output.decoder,
        log=log,
    )
