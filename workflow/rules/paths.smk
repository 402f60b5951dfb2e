# Stage 4: every path method that applies to a run -> results/paths/{run}/{method}.parquet.
# Methods that need the run's decoder (geodesic: torch, the model, an optimiser) run in rule decoder_paths, one job
# per run; generate_paths makes the others from the latents alone, without torch, and takes those tables in. So a
# change to one latent method's settings reruns the cheap job and what reads its paths, never a geodesic. The set
# of methods depends on the run (spiral needs d = 2, ...), so each output is a directory; the list is a param.


rule decoder_paths:
    input:
        latents=f"results/latents/{RUN}.parquet",
        model=f"results/models/{RUN}/model.pt",
        meta=f"results/models/{RUN}/meta.json",
        src=src(
            "io",
            "columns",
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
            "kernels",
        ),
    output:
        directory(f"results/decoder_paths/{RUN}"),
    log:
        f"results/logs/decoder_paths/{RUN}.log",
    benchmark:
        f"results/benchmarks/decoder_paths/{RUN}.tsv"
    retries: 1
    group:
        "walk"
    conda:
        CONDA_ENV
    resources:
        mem_mb=run_job_mem_mb,
        runtime=lambda wildcards, attempt: 60 * attempt,
        gpu=gpus,
    params:
        methods=decoder_methods,
        settings=decoder_path_settings,
        seed=config["seed"],
        device=config["device"],
    script:
        "../scripts/decoder_paths.py"


rule generate_paths:
    input:
        unpack(generate_paths_inputs),
        src=src(
            "io",
            "columns",
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
            "kernels",
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
        settings=latent_path_settings,
        seed=config["seed"],
    script:
        "../scripts/generate_paths.py"
