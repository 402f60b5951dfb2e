# The published line benchmark (Berthelot et al. 2018, Table 1), apart from the runs: per model and seed, train on
# an endless stream of lines and score fresh test interpolations on the protocol's schedule; then the tables
# beside the paper's and the curves. `snakemake acai_benchmark` builds it; `acai_benchmark.enabled` adds it to the
# default target and the report.
from latentwalk.core.registry import BENCHMARK_MODELS
from latentwalk.measure.paper import PAPER_PROTOCOL, budget_samples

BENCH = config["acai_benchmark"]


rule acai_protocol:
    input:
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
        runtime=lambda wildcards, attempt: attempt * (60 + budget_samples(BENCH["samples"]) // 5000),
    params:
        model=lambda wildcards: model_settings(BENCH["architecture"], "mse", wildcards.bmodel),
        protocol={key: BENCH[key] for key in [*PAPER_PROTOCOL, "latent_dim"]},
        train={"threads": config["train"]["threads"], "device": config["device"]},
    script:
        "../scripts/acai_protocol.py"


rule acai_table:
    input:
        results=expand("results/acai_benchmark/{model}-s{seed}.json", model=BENCH["models"], seed=BENCH["seeds"]),
        src=sources("acai_table"),
    output:
        evaluations="results/acai_benchmark/evaluations.csv",
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
        curve_png=report(
            "results/acai_benchmark/curve.png",
            caption="../report/acai_curve.rst",
            category="Line benchmark (ACAI)",
            labels={"figure": "both metrics against samples seen"},
        ),
        curve_svg="results/acai_benchmark/curve.svg",
    log:
        "results/logs/acai_table.log",
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        models=BENCH["models"],
    script:
        "../scripts/acai_table.py"


rule acai_benchmark:
    input:
        rules.acai_table.output,
    localrule: True
