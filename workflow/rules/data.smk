# Stage 1: datasets -> results/data/{dataset}.npz + provenance JSON.


rule download_mnist:
    input:
        src=src("io", "idx"),
    output:
        "results/downloads/mnist/{file}",
    log:
        "results/logs/download_mnist/{file}.log",
    localrule: True  # compute nodes often have no internet access
    conda:
        CONDA_ENV
    params:
        base_url=config["data"]["mnist"]["base_url"],
        sha256=lambda wildcards: config["data"]["mnist"]["sha256"].get(wildcards.file),
        timeout=config["data"]["mnist"]["timeout"],
    script:
        "../scripts/download_mnist.py"


rule prepare_data:
    input:
        raw=data_inputs,
        src=src("io", "registry", "stages/__init__", "stages/data", "datasets", "lines", "views", "idx"),
    output:
        npz="results/data/{dataset}.npz",
        json=report(
            "results/data/{dataset}.json",
            caption="../report/provenance.rst",
            category="Provenance",
            subcategory="{dataset}",
            labels={"artifact": "data"},
        ),
    log:
        "results/logs/prepare_data/{dataset}.log",
    benchmark:
        "results/benchmarks/prepare_data/{dataset}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=lambda wildcards: 1500
        + 3 * dataset_images(wildcards.dataset)[0] * dataset_images(wildcards.dataset)[1] * 4 // 1_000_000,
        runtime=20,
    params:
        data=data_params,
        seed=config["seed"],
    script:
        "../scripts/prepare_data.py"
