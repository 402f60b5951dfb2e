"""Rule path_stats: norms along paths and interpolation quality of one run (see latentwalk.stages.stats)."""

from latentwalk.logs import job_log
from latentwalk.stages.stats import path_stats

w = snakemake.wildcards  # noqa: F821 (injected by Snakemake)
with job_log(snakemake.log[0]) as log:  # noqa: F821
    path_stats(
        run=f"{w.dataset}/{w.model}-z{w.dim}",
        path_tables=list(snakemake.input.paths),  # noqa: F821
        decoded=list(snakemake.input.decoded),  # noqa: F821
        latents=snakemake.input.latents,  # noqa: F821
        data_npz=snakemake.input.data,  # noqa: F821
        line_params=snakemake.params.line_params,  # noqa: F821
        classifier_npz=snakemake.input.get("classifier"),  # noqa: F821
        out=dict(snakemake.output.items()),  # noqa: F821
        log=log,
    )
