"""Rule acai_protocol: one model and seed of the published line benchmark (see latentwalk.stages.acai_benchmark)."""

from latentwalk.logs import job_log
from latentwalk.stages.acai_benchmark import acai_protocol

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    acai_protocol(
        data_npz=sm.input.data,
        model=sm.wildcards.bmodel,
        seed=int(sm.wildcards.seed),
        dim=sm.params.dim,
        model_params=sm.params.model_params,
        train_params=sm.params.train_params,
        protocol=sm.params.protocol,
        line_params=sm.params.lines,
        device=sm.params.device,
        out_json=sm.output[0],
        log=log,
    )
