# Figures, rendered from artifacts only (never retraining or re-decoding), each PNG registered in
# the report with a caption that states its parameters; an SVG beside each PNG for papers.

RUN_DIR = "results/figures/{dataset}/{model}-z{dim}"
REPORT_RUN = "{dataset}/{model}-z{dim}"


rule plot_training_curves:
    input:
        history="results/models/{dataset}/{model}-z{dim}/train_log.csv",
        src=src("stages/figures", "plots"),
    output:
        png=report(
            "results/figures/{dataset}/{model}-z{dim}/training_curves.png",
            caption="../report/training_curves.rst",
            category="Data and training",
            subcategory=REPORT_RUN,
            labels={"run": REPORT_RUN, "figure": "training curves"},
        ),
        svg="results/figures/{dataset}/{model}-z{dim}/training_curves.svg",
    log:
        "results/logs/plot_training_curves/{dataset}/{model}-z{dim}.log",
    script:
        "../scripts/plot_training_curves.py"


rule plot_latent_scatter:
    input:
        latents="results/latents/{dataset}/{model}-z{dim}.parquet",
        src=src("stages/figures", "plots", "encoding"),
    output:
        png=report(
            "results/figures/{dataset}/{model}-z{dim}/latent_scatter.png",
            caption="../report/latent_scatter.rst",
            category="Latent space",
            subcategory=REPORT_RUN,
            labels={"run": REPORT_RUN, "figure": "latent scatter"},
        ),
        svg="results/figures/{dataset}/{model}-z{dim}/latent_scatter.svg",
    params:
        max_points=config["figures"]["scatter_max_points"],
        projection=config["figures"]["scatter_projection"],
        seed=config["seed"],
    log:
        "results/logs/plot_latent_scatter/{dataset}/{model}-z{dim}.log",
    script:
        "../scripts/plot_latent_scatter.py"


rule plot_grid:
    input:
        table="results/paths/{dataset}/{model}-z{dim}/grid.parquet",
        decoded="results/decoded/{dataset}/{model}-z{dim}/grid.npz",
        src=src("stages/figures", "plots"),
    output:
        png=report(
            "results/figures/{dataset}/{model}-z{dim}/grid.png",
            caption="../report/grid.rst",
            category="Latent space",
            subcategory=REPORT_RUN,
            labels={"run": REPORT_RUN, "figure": "decoded grid"},
        ),
        svg="results/figures/{dataset}/{model}-z{dim}/grid.svg",
    log:
        "results/logs/plot_grid/{dataset}/{model}-z{dim}.log",
    script:
        "../scripts/plot_figure.py"


rule plot_interpolation_strips:
    input:
        unpack(strip_inputs),
        src=src("stages/figures", "plots"),
    output:
        png=report(
            "results/figures/{dataset}/{model}-z{dim}/interpolation_strips.png",
            caption="../report/interpolation_strips.rst",
            category="Interpolation",
            subcategory=REPORT_RUN,
            labels={"run": REPORT_RUN, "figure": "interpolation strips"},
        ),
        svg="results/figures/{dataset}/{model}-z{dim}/interpolation_strips.svg",
    params:
        max_pairs=config["figures"]["strip_pairs"],
    log:
        "results/logs/plot_interpolation_strips/{dataset}/{model}-z{dim}.log",
    script:
        "../scripts/plot_figure.py"


rule plot_prior_pair_strips:
    input:
        table="results/paths/{dataset}/{model}-z{dim}/prior_pairs.parquet",
        decoded="results/decoded/{dataset}/{model}-z{dim}/prior_pairs.npz",
        src=src("stages/figures", "plots"),
    output:
        png=report(
            "results/figures/{dataset}/{model}-z{dim}/prior_pair_strips.png",
            caption="../report/prior_pair_strips.rst",
            category="Interpolation",
            subcategory=REPORT_RUN,
            labels={"run": REPORT_RUN, "figure": "prior-pair strips"},
        ),
        svg="results/figures/{dataset}/{model}-z{dim}/prior_pair_strips.svg",
    params:
        max_pairs=config["figures"]["strip_pairs"],
    log:
        "results/logs/plot_prior_pair_strips/{dataset}/{model}-z{dim}.log",
    script:
        "../scripts/plot_figure.py"


rule plot_traversal:
    input:
        table="results/paths/{dataset}/{model}-z{dim}/{traversal}.parquet",
        decoded="results/decoded/{dataset}/{model}-z{dim}/{traversal}.npz",
        src=src("stages/figures", "plots"),
    output:
        png=report(
            "results/figures/{dataset}/{model}-z{dim}/{traversal}.png",
            caption="../report/traversal.rst",
            category="Traversal",
            subcategory=REPORT_RUN,
            labels={"run": REPORT_RUN, "figure": "{traversal}"},
        ),
        svg="results/figures/{dataset}/{model}-z{dim}/{traversal}.svg",
    wildcard_constraints:
        traversal="traverse_axis|traverse_pca|attribute|sphere_spiral",
    log:
        "results/logs/plot_traversal/{dataset}/{model}-z{dim}/{traversal}.log",
    script:
        "../scripts/plot_figure.py"


rule plot_spiral:
    input:
        table="results/paths/{dataset}/{model}-z{dim}/spiral.parquet",
        decoded="results/decoded/{dataset}/{model}-z{dim}/spiral.npz",
        src=src("stages/figures", "plots"),
    output:
        png=report(
            "results/figures/{dataset}/{model}-z{dim}/spiral.png",
            caption="../report/spiral.rst",
            category="Latent space",
            subcategory=REPORT_RUN,
            labels={"run": REPORT_RUN, "figure": "spiral walk"},
        ),
        svg="results/figures/{dataset}/{model}-z{dim}/spiral.svg",
        gif=report(
            "results/figures/{dataset}/{model}-z{dim}/spiral.gif",
            caption="../report/spiral_gif.rst",
            category="Latent space",
            subcategory=REPORT_RUN,
            labels={"run": REPORT_RUN, "figure": "spiral walk (animation)"},
        ),
    params:
        fps=config["figures"]["gif_fps"],
    log:
        "results/logs/plot_spiral/{dataset}/{model}-z{dim}.log",
    script:
        "../scripts/plot_figure.py"


rule plot_path_norms:
    input:
        norms="results/stats/{dataset}/{model}-z{dim}/path_norms.csv",
        src=src("stages/figures", "plots", "figures_geometry"),
    output:
        png=report(
            "results/figures/{dataset}/{model}-z{dim}/path_norms.png",
            caption="../report/path_norms.rst",
            category="Norm concentration",
            subcategory=REPORT_RUN,
            labels={"run": REPORT_RUN, "figure": "norm along paths"},
        ),
        svg="results/figures/{dataset}/{model}-z{dim}/path_norms.svg",
    log:
        "results/logs/plot_path_norms/{dataset}/{model}-z{dim}.log",
    script:
        "../scripts/plot_figure.py"


rule plot_quality:
    input:
        quality="results/stats/{dataset}/{model}-z{dim}/path_quality.csv",
        summary="results/stats/{dataset}/{model}-z{dim}/path_quality_summary.csv",
        src=src("stages/figures", "plots", "figures_geometry"),
    output:
        png=report(
            "results/figures/{dataset}/{model}-z{dim}/path_quality.png",
            caption="../report/path_quality.rst",
            category="Interpolation quality",
            subcategory=REPORT_RUN,
            labels={"run": REPORT_RUN, "figure": "quality along paths"},
        ),
        svg="results/figures/{dataset}/{model}-z{dim}/path_quality.svg",
    log:
        "results/logs/plot_quality/{dataset}/{model}-z{dim}.log",
    script:
        "../scripts/plot_figure.py"


rule sphere_geometry:
    input:
        src=src("stages/figures", "paths"),
    output:
        "results/paths/geometry/sphere_spiral_n{n}.parquet",
    params:
        steps=config["figures"]["sphere"]["steps"],
        loops=config["figures"]["sphere"]["loops"],
        uniform=config["figures"]["sphere"]["uniform"],
        seed=config["seed"],
    log:
        "results/logs/sphere_geometry/n{n}.log",
    script:
        "../scripts/plot_figure.py"


rule plot_sphere:
    input:
        table="results/paths/geometry/sphere_spiral_n{n}.parquet",
        src=src("stages/figures", "plots", "figures_geometry"),
    output:
        png=report(
            "results/figures/geometry/sphere_spiral_n{n}.png",
            caption="../report/sphere_spiral.rst",
            category="Hypersphere geometry",
            subcategory="spiral on the sphere",
            labels={"figure": "sphere spiral", "n": "{n}"},
        ),
        svg="results/figures/geometry/sphere_spiral_n{n}.svg",
    log:
        "results/logs/plot_sphere/n{n}.log",
    script:
        "../scripts/plot_figure.py"


rule plot_hypersphere:
    input:
        table="results/stats/hypersphere.csv",
        src=src("stages/figures", "plots", "figures_geometry"),
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
    script:
        "../scripts/plot_figure.py"


rule plot_norm_concentration:
    input:
        table="results/stats/norm_concentration.csv",
        histograms="results/stats/norm_histograms.csv",
        src=src("stages/figures", "plots", "figures_geometry"),
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
    script:
        "../scripts/plot_figure.py"
