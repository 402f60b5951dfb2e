"""Rule plot_walks: every decoded-walk figure of one run, into one directory (see latentwalk.stages.figures_walks)."""

from latentwalk.logs import job_log
from latentwalk.stages.figures_walks import plot_walks

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    plot_walks(
        run=f"{sm.wildcards.dataset}/{sm.wildcards.model}-z{sm.wildcards.dim}",
        methods=sm.params.methods,
        paths_dir=sm.input.paths,
        decoded_dir=sm.input.decoded,
        strip_pairs=sm.params.strip_pairs,
        fps=sm.params.fps,
        out_dir=sm.output[0],
        log=log,
    )
