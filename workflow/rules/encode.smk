# Stage 3: encode every example with the run's encoder means -> one Parquet per run.


rule encode:
    input:
        data="results/data/{dataset}.npz",
        model="results/models/{dataset}/{model}-z{dim}/model.pt",
        meta="results/models/{dataset}/{model}-z{dim}/meta.json",
        src=src("io", "registry", "stages/__init__", "stages/encode", "datasets", "idx", "models", "training", "encoding"),
    output:
        "results/latents/{dataset}/{model}-z{dim}.parquet",
    params:
        batch_size=config["encode"]["batch_size"],
        device=config["device"],
    log:
        "results/logs/encode/{dataset}/{model}-z{dim}.log",
    benchmark:
        "results/benchmarks/encode/{dataset}/{model}-z{dim}.tsv"
    script:
        "../scripts/encode.py"
