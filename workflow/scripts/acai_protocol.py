"""Rule acai_protocol: train one model of the line benchmark with one seed and score it (latentwalk.measure.line_benchmark.acai_protocol)."""

from latentwalk.core.logs import job_log
from latentwalk.measure.line_benchmark import acai_protocol

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    acai_protocol(
        model=sm.wildcards.bmodel,
        seed=int(sm.wildcards.seed),
        protocol=sm.params.protocol,
        model_params=sm.params.model,
        train_params=sm.params.train,
        out_json=sm.output[0],
        log=log,
    )
