# Stage 6: statistics. Geometry of Gaussians (no model needed), a classifier that scores digit
# frames, per-run path norms and interpolation quality, and the cross-run summary.
from latentwalk.core.registry import dropped_methods


def path_stats_inputs(wildcards):
    """The run's path and decoded directories, latents, data and, for class-labelled data, the frame classifier."""
    run = run_of(wildcards)
    inputs = {
        "paths": f"results/paths/{run.name}",
        "decoded": f"results/decoded/{run.name}",
        "latents": f"results/latents/{run.name}.parquet",
        "data": f"results/data/{run.dataset}.npz",
    }
    if DATASET_INFO[run.dataset].scorer == "classifier":
        inputs["classifier"] = f"results/classifiers/{run.dataset}.npz"
    return inputs


def scoring_params(wildcards):
    """How the run's decoded frames are scored: the dataset's scorer and the settings it needs (data.lines)."""
    scorer = DATASET_INFO[wildcards.dataset].scorer
    return {"scorer": scorer, "lines": dict(config["data"]["lines"])} if scorer == "lines" else {"scorer": scorer}


rule norm_concentration:
    input:
        src=sources("norm_concentration"),
    output:
        table=report(
            "results/stats/norm_concentration.csv",
            caption="../report/norm_concentration_table.rst",
            category="Norm concentration",
            subcategory="Gaussian samples",
            labels={"figure": "table: sampled vs exact"},
        ),
        histograms="results/stats/norm_histograms.csv",
    log:
        "results/logs/norm_concentration.log",
    benchmark:
        "results/benchmarks/norm_concentration.tsv"
    group:
        "geometry"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1500,
        runtime=30,
    params:
        dims=config["stats"]["norm_concentration"]["dims"],
        n=config["stats"]["norm_concentration"]["n"],
        chunk_elements=config["stats"]["norm_concentration"]["chunk_elements"],
        bins=config["stats"]["norm_concentration"]["bins"],
        seed=config["seed"],
    script:
        "../scripts/norm_concentration.py"


rule hypersphere:
    input:
        src=sources("hypersphere"),
    output:
        report(
            "results/stats/hypersphere.csv",
            caption="../report/hypersphere_table.rst",
            category="Hypersphere geometry",
            subcategory="volume and surface",
            labels={"figure": "table"},
        ),
    log:
        "results/logs/hypersphere.log",
    group:
        "geometry"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        n_max=config["stats"]["hypersphere"]["n_max"],
    script:
        "../scripts/hypersphere.py"


rule train_classifier:
    input:
        data="results/data/{dataset}.npz",
        src=sources("train_classifier"),
    output:
        weights="results/classifiers/{dataset}.npz",
        meta=report(
            "results/classifiers/{dataset}.json",
            caption="../report/provenance.rst",
            category="Provenance",
            subcategory="{dataset}",
            labels={"artifact": "classifier"},
        ),
    log:
        "results/logs/train_classifier/{dataset}.log",
    benchmark:
        "results/benchmarks/train_classifier/{dataset}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        hidden=config["stats"]["classifier"]["hidden"],
        max_iter=config["stats"]["classifier"]["max_iter"],
        seed=config["seed"],
    script:
        "../scripts/train_classifier.py"


rule path_stats:
    input:
        unpack(path_stats_inputs),
        src=sources("path_stats"),
    output:
        **{key: f"results/stats/{RUN}/{stem}.csv" for key, stem in PATH_STATS.items()},
    log:
        f"results/logs/path_stats/{RUN}.log",
    benchmark:
        f"results/benchmarks/path_stats/{RUN}.tsv"
    retries: 1
    group:
        "walk"
    conda:
        CONDA_ENV
    resources:
        mem_mb=run_job_mem_mb,
        runtime=run_job_minutes(30),
    params:
        run=RUN,
        methods=run_methods,
        scoring=scoring_params,
    script:
        "../scripts/path_stats.py"


rule summary:
    input:
        norm=[f"results/stats/{run.name}/path_norm_summary.csv" for run in RUNS],
        quality=[f"results/stats/{run.name}/path_quality_summary.csv" for run in RUNS],
        src=sources("summary"),
    output:
        report(
            "results/stats/summary.csv",
            caption="../report/summary_table.rst",
            category="Interpolation quality",
            subcategory="summary",
            labels={"figure": "summary table"},
        ),
    log:
        "results/logs/summary.log",
    group:
        "summary"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        runs=[run.name for run in RUNS],
    script:
        "../scripts/summary.py"


rule key_numbers:
    input:
        summary="results/stats/summary.csv",
        concentration="results/stats/norm_concentration.csv",
        hypersphere="results/stats/hypersphere.csv",
        classifiers=[
            f"results/classifiers/{name}.json" for name in DATASET_INFO if DATASET_INFO[name].scorer == "classifier"
        ],
        metas=[f"results/models/{run.name}/meta.json" for run in RUNS],
        src=sources("key_numbers"),
    output:
        report(
            "results/stats/key_numbers.rst",
            caption="../report/key_numbers.rst",
            category="Interpolation quality",
            subcategory="summary",
            labels={"figure": "key numbers"},
        ),
    log:
        "results/logs/key_numbers.log",
    group:
        "summary"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        dropped=[list(row) for row in dropped_methods(RUNS, config["paths"])],
    script:
        "../scripts/key_numbers.py"


rule compare_runs:
    input:
        metas=[f"results/models/{run.name}/meta.json" for run in RUNS],
        encoded_norms=[f"results/stats/{run.name}/encoded_norms.csv" for run in RUNS],
        summary="results/stats/summary.csv",
        src=sources("compare_runs"),
    output:
        report(
            "results/stats/runs.csv",
            caption="../report/runs_table.rst",
            category="Sweep comparison",
            subcategory="all runs",
            labels={"figure": "table: one row per run"},
        ),
    log:
        "results/logs/compare_runs.log",
    group:
        "summary"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        runs=[run.name for run in RUNS],
        scorers={name: dataset.scorer for name, dataset in DATASET_INFO.items()},
    script:
        "../scripts/compare_runs.py"
