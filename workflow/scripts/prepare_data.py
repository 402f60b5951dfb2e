"""Rule prepare_data: build one dataset (latentwalk.data.prepare.prepare_data)."""

from latentwalk.core.logs import job_log
from latentwalk.data.prepare import prepare_data

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    prepare_data(
        name=sm.wildcards.dataset,
        params=sm.params.data,
        seed=sm.params.seed,
        out_npz=sm.output.npz,
        out_json=sm.output.json,
        inputs=list(sm.input.raw),
        log=log,
    )
