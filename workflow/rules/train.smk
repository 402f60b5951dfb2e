# Stage 2: one training job per run -> weights (state_dict), per-epoch log, provenance.


rule train:
    input:
        data="results/data/{dataset}.npz",
        src=src(
            "io",
            "registry",
            "stages/__init__",
            "stages/train",
            "datasets",
            "lines",
            "views",
            "idx",
            "models",
            "training",
            "mlp_step",
            "kernels",
        ),
    output:
        model="results/models/{dataset}/{model}-z{dim}/model.pt",
        history="results/models/{dataset}/{model}-z{dim}/train_log.csv",
        meta=report(
            "results/models/{dataset}/{model}-z{dim}/meta.json",
            caption="../report/provenance.rst",
            category="Provenance",
            subcategory="{dataset}",
            labels={"artifact": "model {model}-z{dim}"},
        ),
    log:
        "results/logs/train/{dataset}/{model}-z{dim}.log",
    benchmark:
        "results/benchmarks/train/{dataset}/{model}-z{dim}.tsv"
    retries: 1
    conda:
        CONDA_ENV
    threads: config["train"]["threads"]
    resources:
        gpu=gpus,
        mem_mb=train_mem_mb,
        runtime=train_runtime,
    params:
        model=model_params,
        train=train_params,
        seed=config["seed"],
        device=config["device"],
    script:
        "../scripts/train.py"
