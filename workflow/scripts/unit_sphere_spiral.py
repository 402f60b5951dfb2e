"""Rule unit_sphere_spiral: a spiral on the unit sphere in R^n and a uniform sample of it (see latentwalk.stages.figures_geometry)."""

from latentwalk.logs import job_log
from latentwalk.stages.figures_geometry import unit_sphere_spiral

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    p = sm.params
    unit_sphere_spiral(int(sm.wildcards.n), p.steps, p.loops, p.uniform, p.seed, sm.output[0], log)
