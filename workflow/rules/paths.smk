# Stage 4: every path method that applies to a run, in one job per run -> results/paths/{run}/{method}.parquet.
# The set of methods depends on the run (spiral needs d = 2, ...), so the output is the run's directory;
# the list of methods is a param, so a change to it reruns exactly that run.


rule generate_paths:
    input:
        latents=f"results/latents/{RUN}.parquet",
        model=f"results/models/{RUN}/model.pt",
        meta=f"results/models/{RUN}/meta.json",
        src=src(
            "io",
            "registry",
            "stages/__init__",
            "stages/paths",
            "paths",
            "projection",
            "geodesic",
            "encoding",
            "models",
            "training",
            "mlp_step",
        ),
    output:
        directory(f"results/paths/{RUN}"),
    log:
        f"results/logs/generate_paths/{RUN}.log",
    benchmark:
        f"results/benchmarks/generate_paths/{RUN}.tsv"
    retries: 1
    group:
        "walk"
    conda:
        CONDA_ENV
    resources:
        mem_mb=run_job_mem_mb,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        methods=run_methods,
        settings=path_settings,
        seed=config["seed"],
        device=config["device"],
    script:
        "../scripts/generate_paths.py"
