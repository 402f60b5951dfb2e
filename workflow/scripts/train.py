"""Rule train: train one run (latentwalk.model.training.train)."""

from latentwalk.core.logs import job_log
from latentwalk.model.training import train

sm = snakemake  # noqa: F821 (injected by Snakemake)
with job_log(sm) as log:
    train(
        data_npz=sm.input.data,
        run=sm.params.run,
        model_params=sm.params.model,
        train_params=sm.params.train,
        seed=sm.params.seed,
        device=sm.params.device,
        out=dict(sm.output.items()),
        log=log,
    )
