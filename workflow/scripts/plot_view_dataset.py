"""Rule plot_view_dataset: the contact sheet of a views dataset (see latentwalk.stages.figures_views)."""

from latentwalk.logs import job_log
from latentwalk.stages.figures_views import plot_view_dataset

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_view_dataset(data_npz=sm.input.data, columns=sm.params.columns, out_png=sm.output.png, log=log)
