"""Rule plot_view_dataset: the views dataset's contact sheet (latentwalk.figures.viewpoints.plot_view_dataset)."""

from latentwalk.core.logs import job_log
from latentwalk.figures.viewpoints import plot_view_dataset

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_view_dataset(
        data_npz=sm.input.data,
        columns=sm.params.columns,
        out_png=sm.output.png,
        log=log,
    )
