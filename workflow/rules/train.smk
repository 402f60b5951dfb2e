# Stage 2: one training job per run -> weights (state_dict), per-epoch log, provenance; an external model (trained
# elsewhere) gets one import job instead, which checks it on its dataset and writes its run's meta.json.
from latentwalk.core.config import architecture_of
from latentwalk.core.registry import MODELS, WILDCARD_CONSTRAINTS, parse_model


def model_settings(architecture, likelihood, kind):
    """Only the `model` settings that shape a model (the Gaussian noise scale only for Gaussian likelihoods, ACAI's
    weights only for ACAI, ...); the line benchmark's rule acai_protocol uses them too."""
    m = config["model"]
    params = {"architecture": architecture, "likelihood": likelihood}
    if architecture == "mlp":
        params["hidden"] = list(m["hidden"])
    elif architecture == "conv":
        params["channels"] = list(m["channels"])
        params["conv_hidden"] = m["conv_hidden"]
    else:
        params["depth"] = m["depth"]
        params["latent_width"] = m["latent_width"]
    if likelihood == "gaussian":
        params["gaussian_sigma"] = m["gaussian_sigma"]
    if MODELS[kind].adversarial:
        params["acai_lambda"] = m["acai"]["lambda"]
        params["acai_gamma"] = m["acai"]["gamma"]
    if MODELS[kind].corruption == "dropout":
        params["dropout"] = m["dropout"]
    if MODELS[kind].corruption == "noise":
        params["denoising_sigma"] = m["denoising_sigma"]
    return params


def model_params(wildcards):
    """A run's model settings; a swept KL weight (model.beta) is part of the run's model name, not a param."""
    return model_settings(
        architecture_of(config, wildcards.dataset),
        config["model"]["likelihood"][wildcards.dataset],
        parse_model(wildcards.model)[0],
    )


def train_params(wildcards):
    """The `train` settings of a run: its dataset's epochs and the optimisation settings."""
    t = config["train"]
    return {
        "epochs": t["epochs"][wildcards.dataset],
        "batch_size": t["batch_size"],
        "kl_warmup_epochs": t["kl_warmup_epochs"],
        "learning_rate": t["learning_rate"],
        "threads": t["threads"],
    }


def train_runtime(wildcards, attempt):
    """Minutes: 10 plus the epochs at a pessimistic 1,000 images per second, per attempt."""
    count, _ = dataset_images(wildcards.dataset)
    return (10 + config["train"]["epochs"][wildcards.dataset] * count // 60_000) * attempt


rule train:
    input:
        data="results/data/{dataset}.npz",
        src=sources("train"),
    output:
        model=f"results/models/{RUN}/model.pt",
        history=f"results/models/{RUN}/train_log.csv",
        meta=report(
            f"results/models/{RUN}/meta.json",
            caption="../report/provenance.rst",
            category="Provenance",
            subcategory="{dataset}",
            labels={"artifact": "model {model}-z{dim}"},
        ),
    log:
        f"results/logs/train/{RUN}.log",
    benchmark:
        f"results/benchmarks/train/{RUN}.tsv"
    wildcard_constraints:
        model=WILDCARD_CONSTRAINTS["model"],
    retries: 1
    conda:
        CONDA_ENV
    threads: config["train"]["threads"]
    resources:
        gpu=gpus,
        mem_mb=data_mem_mb,
        runtime=train_runtime,
    params:
        run=RUN,
        model=model_params,
        train=train_params,
        seed=config["seed"],
        device=config["device"],
    script:
        "../scripts/train.py"


rule import_model:
    input:
        data="results/data/{dataset}.npz",
        encoder=lambda wildcards: EXTERNAL[wildcards.model]["encoder"],
        decoder=lambda wildcards: EXTERNAL[wildcards.model]["decoder"],
        src=sources("import_model"),
    output:
        meta=report(
            f"results/models/{RUN}/meta.json",
            caption="../report/provenance.rst",
            category="Provenance",
            subcategory="{dataset}",
            labels={"artifact": "external model {model}-z{dim}"},
        ),
    log:
        f"results/logs/import_model/{RUN}.log",
    benchmark:
        f"results/benchmarks/import_model/{RUN}.tsv"
    wildcard_constraints:
        model="|".join(EXTERNAL) or NOTHING,
    conda:
        CONDA_ENV
    threads: config["threads"]
    resources:
        gpu=gpus,
        mem_mb=data_mem_mb,
        runtime=run_job_minutes(30),
    params:
        run=RUN,
        batch_size=config["encode"]["batch_size"],
        device=config["device"],
    script:
        "../scripts/import_model.py"
