"""Rule plot_view_walks: a views run's figures and its viewpoint figures (latentwalk.figures.viewpoints.plot_view_walks)."""

from latentwalk.core.logs import job_log
from latentwalk.figures.viewpoints import plot_view_walks

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_view_walks(
        run=sm.params.run,
        methods=sm.params.methods,
        inputs=dict(sm.input.items()),
        settings=dict(sm.params.items()),
        out=dict(sm.output.items()),
        log=log,
    )
