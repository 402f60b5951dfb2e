"""Rule train: train one run (see latentwalk.stages.train)."""

from latentwalk.logs import job_log
from latentwalk.stages.train import train

with job_log(snakemake) as log:  # noqa: F821 (injected by Snakemake)
    train(
        data_npz=snakemake.input.data,
        dataset=snakemake.wildcards.dataset,
        model=snakemake.wildcards.model,
        dim=int(snakemake.wildcards.dim),
        model_params=snakemake.params.model,
        train_params=snakemake.params.train,
        seed=snakemake.params.seed,
        device=snakemake.params.device,
        out_model=snakemake.output.model,
        out_log_csv=snakemake.output.history,
        out_meta=snakemake.output.meta,
        log=log,
    )
