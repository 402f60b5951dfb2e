"""Rule unit_sphere_spiral: a spiral on the unit sphere in R^n and a uniform sample of it (latentwalk.walks.traverse.unit_sphere_spiral)."""

from latentwalk.core.logs import job_log
from latentwalk.walks.traverse import unit_sphere_spiral

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    unit_sphere_spiral(int(sm.wildcards.n), sm.params.steps, sm.params.loops, sm.params.uniform, sm.params.seed,
                       sm.output[0], log)
