"""Rule plot_unit_sphere_spiral: the unit-sphere spiral in R^n and its projections (see latentwalk.stages.figures_geometry)."""

from latentwalk.logs import job_log
from latentwalk.stages.figures_geometry import plot_unit_sphere_spiral

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_unit_sphere_spiral(sm.input.table, sm.output.png, sm.output.svg, log)
