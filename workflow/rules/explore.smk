# Stage 8: explore. Per run, what the page embeds that needs the model (project: the encoded test points in the
# plane, a table, and the decoder exported as the page runs it, with torch's decodings of self-test probes), then a
# self-contained HTML page that decodes latents in the browser with the run's own decoder (zoom, pan, hover,
# sliders, path scrubbing, 3-D view). The page job needs no torch, so a path setting rebuilds it cheaply.


rule project:
    input:
        latents=f"results/latents/{RUN}.parquet",
        model=f"results/models/{RUN}/model.pt",
        meta=f"results/models/{RUN}/meta.json",
        src=src(
            "io",
            "columns",
            "registry",
            "stages/__init__",
            "stages/explorer",
            "encoding",
            "projection",
            "explorer",
            "models",
            "training",
            "mlp_step",
            "kernels",
        ),
    output:
        projection=f"results/projections/{RUN}.parquet",
        decoder=f"results/projections/{RUN}.decoder.json",
    log:
        f"results/logs/project/{RUN}.log",
    benchmark:
        f"results/benchmarks/project/{RUN}.tsv"
    retries: 1
    group:
        "walk"
    conda:
        CONDA_ENV
    resources:
        mem_mb=run_job_mem_mb,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        method=config["explorer"]["projection"],
        max_points=config["explorer"]["max_points"],
        seed=config["seed"],
        selftest_frames=config["explorer"]["selftest_frames"],
    script:
        "../scripts/project.py"


rule explorer:
    input:
        decoder=f"results/projections/{RUN}.decoder.json",
        projection=f"results/projections/{RUN}.parquet",
        paths=f"results/paths/{RUN}",
        assets=[os.path.relpath(Path(PACKAGE, "assets", name)) for name in EXPLORER_ASSETS],
        src=src(
            "io",
            "columns",
            "registry",
            "stages/__init__",
            "stages/explorer",
            "explorer",
            "projection",
        ),
    output:
        report(
            f"results/explorer/{RUN}.html",
            caption="../report/explorer.rst",
            category="Explore",
            subcategory=RUN,
            labels={"run": RUN, "figure": "latent explorer"},
        ),
    log:
        f"results/logs/explorer/{RUN}.log",
    benchmark:
        f"results/benchmarks/explorer/{RUN}.tsv"
    retries: 1
    group:
        "walk"
    conda:
        CONDA_ENV
    resources:
        mem_mb=run_job_mem_mb,
        runtime=lambda wildcards, attempt: 30 * attempt,
    params:
        overlays=explorer_overlays,
        max_sliders=config["explorer"]["max_sliders"],
    script:
        "../scripts/explorer.py"
