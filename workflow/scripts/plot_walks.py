"""Rule plot_walks: every figure of one run (latentwalk.figures.walk_figures.plot_walks)."""

from latentwalk.core.logs import job_log
from latentwalk.figures.walk_figures import plot_walks

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_walks(sm.params.run, sm.params.methods, dict(sm.input.items()), dict(sm.params.items()),
               dict(sm.output.items()), log)
