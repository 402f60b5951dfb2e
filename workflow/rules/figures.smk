# Figures, rendered from artifacts only (never retraining or re-decoding), each PNG registered in the
# report with a caption that states its parameters; an SVG beside each plot's PNG for papers (decoded-image figures are PNG only).
# Per run, one job draws every figure (plot_walks; plot_view_walks adds the viewpoint figures for views runs):
# the model's diagnostics (training curves, latent scatter), the decoded walks, whose set depends on the run's
# path methods (one directory), and the norm and quality along the paths. One job, not two: a figure job's
# start-up (interpreter, numpy, matplotlib: about 0.7 core-s) costs more than drawing the two diagnostics, which
# a path setting therefore redraws too.


rule plot_walks:
    input:
        **walk_figure_inputs(),
        src=src(
            "io",
            "columns",
            "registry",
            "stages/__init__",
            "stages/figures_run",
            "stages/figures_walks",
            "plots",
            "figures_run",
            "figures_decoded",
            "figures_quality",
            "chi",
            "encoding",
            "projection",
        ),
    output:
        **walk_figure_outputs(),
    log:
        f"results/logs/plot_walks/{RUN}.log",
    benchmark:
        f"results/benchmarks/plot_walks/{RUN}.tsv"
    wildcard_constraints:
        dataset=OTHER_DATASETS,
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
        strip_pairs=config["figures"]["strip_pairs"],
        fps=config["figures"]["gif_fps"],
        scatter={
            "max_points": config["figures"]["scatter_max_points"],
            "projection": config["figures"]["scatter_projection"],
            "seed": config["seed"],
        },
    script:
        "../scripts/plot_walks.py"


# A views run's figures (as plot_walks) and its viewpoint figures (decoded frames against the true renders, the
# recovered azimuths, the latents by azimuth): one job, as both read the run's paths and decoded frames.
rule plot_view_walks:
    input:
        **walk_figure_inputs(),
        src=src(
            "io",
            "columns",
            "registry",
            "stages/__init__",
            "stages/figures_run",
            "stages/figures_walks",
            "stages/figures_views",
            "plots",
            "figures_run",
            "figures_decoded",
            "figures_quality",
            "figures_views",
            "chi",
            "encoding",
            "projection",
            "quality",
            "lines",
            "views",
        ),
    output:
        **walk_figure_outputs(),
        view_strips=run_figure("view_strips", "view_strips.rst", "Viewpoints", "viewpoint strips"),
        view_azimuths=run_figure("view_azimuths", "view_azimuths.rst", "Viewpoints", "recovered azimuth"),
        view_azimuths_svg=f"results/figures/{RUN}/view_azimuths.svg",
        view_scatter=run_figure("view_scatter", "view_scatter.rst", "Viewpoints", "latents by azimuth"),
        view_scatter_svg=f"results/figures/{RUN}/view_scatter.svg",
    log:
        f"results/logs/plot_view_walks/{RUN}.log",
    benchmark:
        f"results/benchmarks/plot_view_walks/{RUN}.tsv"
    wildcard_constraints:
        dataset="|".join(VIEW_DATASETS),
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
        strip_pairs=config["figures"]["strip_pairs"],
        fps=config["figures"]["gif_fps"],
        scatter={
            "max_points": config["figures"]["scatter_max_points"],
            "projection": config["figures"]["scatter_projection"],
            "seed": config["seed"],
        },
        views=lambda wildcards: dict(config["data"][wildcards.dataset]),
    script:
        "../scripts/plot_view_walks.py"


rule plot_view_dataset:
    input:
        data="results/data/{dataset}.npz",
        src=src(
            "io",
            "columns",
            "registry",
            "stages/__init__",
            "stages/figures_views",
            "datasets",
            "lines",
            "views",
            "idx",
            "figures_decoded",
            "plots",
        ),
    output:
        png=report(
            "results/figures/data/{dataset}.png",
            caption="../report/view_dataset.rst",
            category="Data and training",
            subcategory="{dataset}",
            labels={"figure": "contact sheet", "dataset": "{dataset}"},
        ),
    log:
        "results/logs/plot_view_dataset/{dataset}.log",
    wildcard_constraints:
        dataset="|".join(VIEW_DATASETS),
    conda:
        CONDA_ENV
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        columns=12,
    script:
        "../scripts/plot_view_dataset.py"


rule unit_sphere_spiral:
    input:
        src=src("io", "registry", "stages/__init__", "stages/figures_geometry", "paths", "projection"),
    output:
        "results/paths/geometry/unit_sphere_spiral_n{n}.parquet",
    log:
        "results/logs/unit_sphere_spiral/n{n}.log",
    group:
        "geometry"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        steps=config["figures"]["sphere"]["steps"],
        loops=config["figures"]["sphere"]["loops"],
        uniform=config["figures"]["sphere"]["uniform"],
        seed=config["seed"],
    script:
        "../scripts/unit_sphere_spiral.py"


rule plot_geometry:
    input:
        spirals=expand("results/paths/geometry/unit_sphere_spiral_n{n}.parquet", n=config["figures"]["sphere"]["dims"]),
        hypersphere="results/stats/hypersphere.csv",
        norms="results/stats/norm_concentration.csv",
        histograms="results/stats/norm_histograms.csv",
        src=src("io", "columns", "stages/__init__", "stages/figures_geometry", "plots", "figures_geometry", "chi"),
    output:
        # every geometry figure in one job (one interpreter and matplotlib start-up instead of four); the report
        # registers each PNG with its own caption block, category and labels (registry.GEOMETRY_REPORT)
        report(
            directory("results/figures/geometry"),
            patterns=["{figure}.png"],
            caption="../report/geometry_figures.rst",
            category=geometry_category,
            subcategory=geometry_subcategory,
            labels=geometry_labels,
        ),
    log:
        "results/logs/plot_geometry.log",
    group:
        "geometry"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        dims=config["figures"]["sphere"]["dims"],
    script:
        "../scripts/plot_geometry.py"


rule plot_comparison:
    input:
        runs="results/stats/runs.csv",
        src=src("io", "columns", "registry", "stages/__init__", "stages/compare", "plots", "figures_compare"),
    output:
        # one job for every dataset's comparison (one interpreter and matplotlib start-up instead of one per
        # dataset); the report registers each {dataset}.png with its own caption and subcategory
        report(
            directory("results/figures/comparison"),
            patterns=["{dataset}.png"],
            caption="../report/comparison.rst",
            category="Sweep comparison",
            subcategory="{dataset}",
            labels={"figure": "runs side by side", "dataset": "{dataset}"},
        ),
    log:
        "results/logs/plot_comparison.log",
    group:
        "summary"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        datasets=config["datasets"],
    script:
        "../scripts/plot_comparison.py"
