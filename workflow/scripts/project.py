"""Rule project: the run's test points in the plane and its decoder, for the explorer (latentwalk.report.project.project)."""

from latentwalk.core.logs import job_log
from latentwalk.report.project import project

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    project(
        run=sm.params.run,
        inputs=dict(sm.input.items()),
        settings=dict(sm.params.items()),
        out=dict(sm.output.items()),
        log=log,
        threads=sm.threads,
    )
