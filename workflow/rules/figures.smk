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


rule plot_unit_sphere_spiral:
    input:
        table="results/paths/geometry/unit_sphere_spiral_n{n}.parquet",
        src=src("io", "columns", "stages/__init__", "stages/figures_geometry", "plots", "figures_geometry", "chi"),
    output:
        png=report(
            "results/figures/geometry/unit_sphere_spiral_n{n}.png",
            caption="../report/unit_sphere_spiral.rst",
            category="Hypersphere geometry",
            subcategory="spiral on the unit sphere",
            labels={"figure": "unit-sphere spiral", "n": "{n}"},
        ),
        svg="results/figures/geometry/unit_sphere_spiral_n{n}.svg",
    log:
        "results/logs/plot_unit_sphere_spiral/n{n}.log",
    group:
        "geometry"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/plot_unit_sphere_spiral.py"


rule plot_hypersphere:
    input:
        table="results/stats/hypersphere.csv",
        src=src("io", "columns", "stages/__init__", "stages/figures_geometry", "plots", "figures_geometry", "chi"),
    output:
        png=report(
            "results/figures/geometry/hypersphere.png",
            caption="../report/hypersphere.rst",
            category="Hypersphere geometry",
            subcategory="volume and surface",
            labels={"figure": "unit-ball volume and sphere surface"},
        ),
        svg="results/figures/geometry/hypersphere.svg",
    log:
        "results/logs/plot_hypersphere.log",
    group:
        "geometry"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/plot_hypersphere.py"


rule plot_norm_concentration:
    input:
        table="results/stats/norm_concentration.csv",
        histograms="results/stats/norm_histograms.csv",
        src=src("io", "columns", "stages/__init__", "stages/figures_geometry", "plots", "figures_geometry", "chi"),
    output:
        histograms_png=report(
            "results/figures/geometry/norm_histograms.png",
            caption="../report/norm_histograms.rst",
            category="Norm concentration",
            subcategory="Gaussian samples",
            labels={"figure": "norm histograms"},
        ),
        histograms_svg="results/figures/geometry/norm_histograms.svg",
        width_png=report(
            "results/figures/geometry/shell_width.png",
            caption="../report/shell_width.rst",
            category="Norm concentration",
            subcategory="Gaussian samples",
            labels={"figure": "shell width"},
        ),
        width_svg="results/figures/geometry/shell_width.svg",
    log:
        "results/logs/plot_norm_concentration.log",
    group:
        "geometry"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/plot_norm_concentration.py"


rule plot_comparison:
    input:
        runs="results/stats/runs.csv",
        src=src("io", "columns", "registry", "stages/__init__", "stages/compare", "plots", "figures_compare"),
    output:
        png=report(
            "results/figures/comparison/{dataset}.png",
            caption="../report/comparison.rst",
            category="Sweep comparison",
            subcategory="{dataset}",
            labels={"figure": "runs side by side", "dataset": "{dataset}"},
        ),
        svg="results/figures/comparison/{dataset}.svg",
    log:
        "results/logs/plot_comparison/{dataset}.log",
    group:
        "summary"
    conda:
        CONDA_ENV
    resources:
        mem_mb=1000,
        runtime=10,
    script:
        "../scripts/plot_comparison.py"
