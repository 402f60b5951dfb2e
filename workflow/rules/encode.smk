# Stage 3: encode every example with the run's encoder means -> one Parquet per run.


rule encode:
    input:
        data="results/data/{dataset}.npz",
        model="results/models/{dataset}/{model}-z{dim}/model.pt",
        meta="results/models/{dataset}/{model}-z{dim}/meta.json",
        src=src(
            "io",
            "registry",
            "stages/__init__",
            "stages/encode",
            "datasets",
            "lines",
            "views",
            "idx",
            "models",
            "training",
            "mlp_step",
            "kernels",
            "encoding",
        ),
    output:
        "results/latents/{dataset}/{model}-z{dim}.parquet",
    log:
        "results/logs/encode/{dataset}/{model}-z{dim}.log",
    benchmark:
        "results/benchmarks/encode/{dataset}/{model}-z{dim}.tsv"
    retries: 1
    conda:
        CONDA_ENV
    resources:
        mem_mb=lambda wildcards, attempt: 2000 * 2 ** (attempt - 1),
        runtime=lambda wildcards, attempt: 20 * attempt,
    params:
        batch_size=config["encode"]["batch_size"],
        device=config["device"],
    script:
        "../scripts/encode.py"
