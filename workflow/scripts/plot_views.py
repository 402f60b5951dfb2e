"""Rule plot_views: a views run's viewpoint figures (latentwalk.figures.viewpoints.plot_views)."""

from latentwalk.core.logs import job_log
from latentwalk.figures.viewpoints import plot_views

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_views(sm.params.run, sm.params.methods, dict(sm.input.items()), dict(sm.params.items()),
               dict(sm.output.items()), log)
