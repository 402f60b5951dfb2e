"""Rule plot_comparison: every dataset's runs side by side (latentwalk.figures.comparison.plot_comparison)."""

from latentwalk.core.logs import job_log
from latentwalk.figures.comparison import plot_comparison

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_comparison(
        runs_csv=sm.input.runs,
        scorers=sm.params.scorers,
        out_dir=sm.output[0],
        log=log,
    )
