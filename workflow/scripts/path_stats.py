"""Rule path_stats: norms along one run's paths and the quality of its decoded frames (latentwalk.measure.path_stats.path_stats)."""

from latentwalk.core.logs import job_log
from latentwalk.measure.path_stats import path_stats

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    path_stats(sm.params.run, sm.params.methods, dict(sm.input.items()), sm.params.scoring,
               dict(sm.output.items()), log)
