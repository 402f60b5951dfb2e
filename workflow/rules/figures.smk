# Figures, rendered from artifacts only (never retraining or re-decoding), each PNG registered in the
# report with a caption that states its parameters; an SVG beside each plot's PNG for papers (decoded-image figures are PNG only).
# Per run, one job draws every figure of the run (plot_walks): the model's diagnostics (training curves, latent
# scatter), the decoded walks, whose set depends on the run's path methods (one directory), and the norm and quality
# along the paths; views runs get their viewpoint figures from one more job (plot_views).
from latentwalk.core.registry import WALK_REPORT, geometry_report


def run_figure(name, caption, category, label):
    """A figure every run has, registered in the report under the run with its own caption."""
    return report(
        f"results/figures/{RUN}/{name}.png",
        caption=f"../report/{caption}",
        category=category,
        subcategory=RUN,
        labels={"run": RUN, "figure": label},
    )


def walk_category(wildcards):
    """A walk figure's report category, by file name (registry.WALK_REPORT; its caption: walk_figures.rst)."""
    return WALK_REPORT[f"{wildcards.figure}.{wildcards.ext}"][0]


def walk_labels(wildcards):
    return {"run": RUN, "figure": WALK_REPORT[f"{wildcards.figure}.{wildcards.ext}"][1]}


def geometry_category(wildcards):
    """A geometry figure's report category, by file name (registry.GEOMETRY_REPORT; caption: geometry_figures.rst)."""
    return geometry_report(wildcards.figure)[0]


def geometry_subcategory(wildcards):
    return geometry_report(wildcards.figure)[1]


def geometry_labels(wildcards):
    return geometry_report(wildcards.figure)[2]


def training_record(wildcards):
    """What the training-curves figure draws: the run's per-epoch log, or an external model's meta.json."""
    folder = f"results/models/{run_of(wildcards).name}"
    return f"{folder}/meta.json" if wildcards.model in EXTERNAL else f"{folder}/train_log.csv"


def decoder_made(wildcards):
    """The run's decoder_paths directory (its magnification map) when the run has a geodesic, else nothing."""
    return generate_paths_inputs(wildcards).get("made", [])


rule plot_walks:
    input:
        history=training_record,
        made=decoder_made,
        latents=f"results/latents/{RUN}.parquet",
        paths=f"results/paths/{RUN}",
        decoded=f"results/decoded/{RUN}",
        path_norms=f"results/stats/{RUN}/path_norms.csv",
        quality=f"results/stats/{RUN}/path_quality.csv",
        quality_summary=f"results/stats/{RUN}/path_quality_summary.csv",
        src=sources("plot_walks"),
    output:
        training_curves_png=run_figure("training_curves", "training_curves.rst", "Data and training", "training curves"),
        training_curves_svg=f"results/figures/{RUN}/training_curves.svg",
        latent_scatter_png=run_figure("latent_scatter", "latent_scatter.rst", "Latent space", "latent scatter"),
        latent_scatter_svg=f"results/figures/{RUN}/latent_scatter.svg",
        walks=report(
            directory(f"results/figures/{RUN}/walks"),
            patterns=["{figure}.{ext,png|gif}"],
            caption="../report/walk_figures.rst",
            category=walk_category,
            subcategory=RUN,
            labels=walk_labels,
        ),
        path_norms_png=run_figure("path_norms", "path_norms.rst", "Norm concentration", "norm along paths"),
        path_norms_svg=f"results/figures/{RUN}/path_norms.svg",
        path_quality_png=run_figure("path_quality", "path_quality.rst", "Interpolation quality", "quality along paths"),
        path_quality_svg=f"results/figures/{RUN}/path_quality.svg",
    log:
        f"results/logs/plot_walks/{RUN}.log",
    benchmark:
        f"results/benchmarks/plot_walks/{RUN}.tsv"
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


# A views run's viewpoint figures: decoded frames against the true renders, the recovered azimuths, the latents by
# azimuth (its other figures: plot_walks, as every run's).
rule plot_views:
    input:
        latents=f"results/latents/{RUN}.parquet",
        paths=f"results/paths/{RUN}",
        decoded=f"results/decoded/{RUN}",
        quality=f"results/stats/{RUN}/path_quality.csv",
        src=sources("plot_views"),
    output:
        view_strips=run_figure("view_strips", "view_strips.rst", "Viewpoints", "viewpoint strips"),
        view_azimuths=run_figure("view_azimuths", "view_azimuths.rst", "Viewpoints", "recovered azimuth"),
        view_azimuths_svg=f"results/figures/{RUN}/view_azimuths.svg",
        view_scatter=run_figure("view_scatter", "view_scatter.rst", "Viewpoints", "latents by azimuth"),
        view_scatter_svg=f"results/figures/{RUN}/view_scatter.svg",
    log:
        f"results/logs/plot_views/{RUN}.log",
    benchmark:
        f"results/benchmarks/plot_views/{RUN}.tsv"
    wildcard_constraints:
        dataset="|".join(VIEW_DATASETS),
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
        methods=run_methods,
        strip_pairs=config["figures"]["strip_pairs"],
        views=lambda wildcards: dict(config["data"][wildcards.dataset]),
    script:
        "../scripts/plot_views.py"


rule plot_view_dataset:
    input:
        data="results/data/{dataset}.npz",
        src=sources("plot_view_dataset"),
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
        src=sources("unit_sphere_spiral"),
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
        src=sources("plot_geometry"),
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
        src=sources("plot_comparison"),
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
        scorers={name: dataset.scorer for name, dataset in DATASET_INFO.items()},
    script:
        "../scripts/plot_comparison.py"
