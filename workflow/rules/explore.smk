# Stage 8: explore. Per run, what the page embeds that needs the model (project: the encoded test points in the
# plane, a table, and the decoder exported as the page runs it, with torch's decodings of self-test probes), then a
# self-contained HTML page that decodes latents in the browser with the run's own decoder (zoom, pan, hover,
# sliders, path scrubbing, 3-D view). The page job needs no torch, so a path setting rebuilds it cheaply.


def explorer_overlays(wildcards):
    """The run's path methods the explorer draws over its scatter (config explorer.overlays), in config order."""
    wanted = set(config["explorer"]["overlays"])
    return [method for method in run_methods(wildcards) if method in wanted]


rule project:
    input:
        unpack(model_files),
        latents=f"results/latents/{RUN}.parquet",
        src=sources("project"),
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
    threads: config["threads"]
    resources:
        mem_mb=run_job_mem_mb,
        runtime=run_job_minutes(30),
    params:
        run=RUN,
        method=config["explorer"]["projection"],
        max_points=config["explorer"]["max_points"],
        seed=config["seed"],
        selftest_frames=config["explorer"]["selftest_frames"],
    script:
        "../scripts/project.py"


def decoded_if_external(wildcards):
    """An external run's decoded paths: where the page cannot run its decoder, it shows the paths' decoded frames."""
    return {"decoded": f"results/decoded/{run_of(wildcards).name}"} if wildcards.model in EXTERNAL else {}


rule explorer:
    input:
        unpack(decoded_if_external),
        decoder=f"results/projections/{RUN}.decoder.json",
        projection=f"results/projections/{RUN}.parquet",
        paths=f"results/paths/{RUN}",
        assets=sorted(os.path.relpath(p) for p in Path(workflow.basedir, "workflow/latentwalk/report/assets").glob("*")),
        src=sources("explorer"),
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
        runtime=run_job_minutes(30),
    params:
        run=RUN,
        overlays=explorer_overlays,
        max_sliders=config["explorer"]["max_sliders"],
    script:
        "../scripts/explorer.py"
