"""Rule path_stats: norms along one run's paths and the quality of its decoded frames (latentwalk.measure.path_stats.path_stats)."""

from latentwalk.core.logs import job_log
from latentwalk.measure.path_stats import path_stats

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    path_stats(
        run=sm.params.run,
        methods=sm.params.methods,
        inputs=dict(sm.input.items()),
        scoring=sm.params.scoring,
        out=dict(sm.output.items()),
        log=log,
    )
