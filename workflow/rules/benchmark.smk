# The published line benchmark (Berthelot et al. 2018, Table 1), apart from the runs: per model and seed, train
# on lines and score the protocol's interpolations during the last epochs; then the table beside the paper's.
# `snakemake acai_benchmark` builds it; `acai_benchmark.enabled` adds it to the default target and the report.
from latentwalk.core.registry import BENCHMARK_MODELS


rule acai_protocol:
    input:
        data="results/data/lines.npz",
        src=sources("acai_protocol"),
    output:
        "results/acai_benchmark/{bmodel}-s{seed}.json",
    log:
        "results/logs/acai_protocol/{bmodel}-s{seed}.log",
    benchmark:
        "results/benchmarks/acai_protocol/{bmodel}-s{seed}.tsv"
    wildcard_constraints:
        bmodel="|".join(BENCHMARK_MODELS),
    retries: 1
    conda:
        CONDA_ENV
    threads: config["train"]["threads"]
    resources:
        gpu=gpus,
        mem_mb=lambda wildcards, attempt: 2000 * attempt,
        runtime=lambda wildcards, attempt: 120 * attempt,
    params:
        model=lambda wildcards: model_settings(
            config["acai_benchmark"]["architecture"], config["model"]["likelihood"]["lines"], wildcards.bmodel
        ),
        train={
            **{k: config["acai_benchmark"][k] for k in ("epochs", "batch_size", "learning_rate")},
            "threads": config["train"]["threads"],
            "device": config["device"],
        },
        protocol={
            **{k: config["acai_benchmark"][k] for k in ("pairs", "frames", "evaluations", "latent_dim")},
            "lines": dict(config["data"]["lines"]),
        },
    script:
        "../scripts/acai_protocol.py"


rule acai_table:
    input:
        results=[
            f"results/acai_benchmark/{model}-s{seed}.json"
            for model in config["acai_benchmark"]["models"]
            for seed in config["acai_benchmark"]["seeds"]
        ],
        src=sources("acai_table"),
    output:
        table=report(
            "results/acai_benchmark/table.csv",
            caption="../report/acai_benchmark.rst",
            category="Line benchmark (ACAI)",
            labels={"figure": "table: ours beside the paper"},
        ),
        png=report(
            "results/acai_benchmark/table.png",
            caption="../report/acai_benchmark.rst",
            category="Line benchmark (ACAI)",
            labels={"figure": "Mean Distance and Smoothness per model"},
        ),
        svg="results/acai_benchmark/table.svg",
    log:
        "results/logs/acai_table.log",
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        models=config["acai_benchmark"]["models"],
    script:
        "../scripts/acai_table.py"


rule acai_benchmark:
    input:
        rules.acai_table.output,
    localrule: True
