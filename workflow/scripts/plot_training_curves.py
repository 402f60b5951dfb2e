"""Rule plot_training_curves: per-epoch losses of one run."""

from latentwalk.logs import job_log
from latentwalk.stages.figures import plot_training

w = snakemake.wildcards  # noqa: F821 (injected by Snakemake)
with job_log(snakemake.log[0]) as log:  # noqa: F821
    plot_training(
        snakemake.input.history,  # noqa: F821
        f"{w.dataset}/{w.model}-z{w.dim}",
        snakemake.output.png,  # noqa: F821
        snakemake.output.svg,  # noqa: F821
        log=log,
    )
