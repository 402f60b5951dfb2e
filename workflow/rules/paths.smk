# Stage 4: latent paths, one job per run and method -> results/paths/{run}/{method}.parquet.
# Methods that do not apply to a run (e.g. spiral for d != 2) are never requested (see common.smk).


rule generate_paths:
    input:
        unpack(path_inputs),
    output:
        "results/paths/{dataset}/{model}-z{dim}/{method}.parquet",
    params:
        settings=path_params,
        seed=config["seed"],
        device=config["device"],
    log:
        "results/logs/generate_paths/{dataset}/{model}-z{dim}/{method}.log",
    benchmark:
        "results/benchmarks/generate_paths/{dataset}/{model}-z{dim}/{method}.tsv"
    script:
        "../scripts/generate_paths.py"
