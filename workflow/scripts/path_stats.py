"""Rule path_stats: norms along paths and interpolation quality of one run (see latentwalk.stages.path_stats)."""

from latentwalk.logs import job_log
from latentwalk.stages.path_stats import path_stats

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    path_stats(
        run=f"{sm.wildcards.dataset}/{sm.wildcards.model}-z{sm.wildcards.dim}",
        methods=sm.params.methods,
        paths_dir=sm.input.paths,
        decoded_dir=sm.input.decoded,
        latents=sm.input.latents,
        data_npz=sm.input.data,
        scoring=sm.params.scoring,
        classifier_npz=sm.input.get("classifier"),
        out=dict(sm.output.items()),
        log=log,
    )
