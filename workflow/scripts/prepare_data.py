"""Rule prepare_data: build one dataset (see latentwalk.stages.data)."""

from latentwalk.logs import job_log
from latentwalk.stages.data import prepare_data

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    prepare_data(
        name=snakemake.wildcards.dataset,
        params=snakemake.params.data,
        seed=snakemake.params.seed,
        out_npz=snakemake.output.npz,
        out_json=snakemake.output.json,
        inputs=list(snakemake.input.raw),
        log=log,
    )
