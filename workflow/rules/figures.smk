# Figures, rendered from artifacts only (never retraining or re-decoding), each PNG registered in
# the report with a caption that states its parameters; an SVG beside each PNG for papers.
# One rule per figure family; each family is one job over all runs (see common.smk).


rule plot_training_curves:
    input:
        history=[f"results/models/{run.name}/train_log.csv" for run in RUNS],
        src=src("stages/figures", "plots"),
    output:
        png=[
            figure_report(_figure(run, "training_curves"), "../report/training_curves.rst", "Data and training", run, "training curves")
            for run in RUNS
        ],
        svg=[_figure(run, "training_curves", "svg") for run in RUNS],
    params:
        runs=[run.name for run in RUNS],
    log:
        "results/logs/plot_training_curves.log",
    script:
        "../scripts/plot_figure.py"


rule plot_latent_scatter:
    input:
        latents=[f"results/latents/{run.name}.parquet" for run in RUNS],
        src=src("stages/figures", "plots", "encoding"),
    output:
        png=[
            figure_report(_figure(run, "latent_scatter"), "../report/latent_scatter.rst", "Latent space", run, "latent scatter")
            for run in RUNS
        ],
        svg=[_figure(run, "latent_scatter", "svg") for run in RUNS],
    params:
        runs=[run.name for run in RUNS],
        max_points=config["figures"]["scatter_max_points"],
        projection=config["figures"]["scatter_projection"],
        seed=config["seed"],
    log:
        "results/logs/plot_latent_scatter.log",
    script:
        "../scripts/plot_figure.py"


if family_runs("grid"):

    rule plot_grid:
        input:
            tables=[f"results/paths/{run.name}/grid.parquet" for run in family_runs("grid")],
            decoded=[f"results/decoded/{run.name}/grid.npz" for run in family_runs("grid")],
            src=src("stages/figures", "plots"),
        output:
            png=[
                figure_report(_figure(run, "grid"), "../report/grid.rst", "Latent space", run, "decoded grid")
                for run in family_runs("grid")
            ],
            svg=[_figure(run, "grid", "svg") for run in family_runs("grid")],
        params:
            runs=[run.name for run in family_runs("grid")],
        log:
            "results/logs/plot_grid.log",
        script:
            "../scripts/plot_figure.py"


if family_runs("interpolation_strips"):

    rule plot_interpolation_strips:
        input:
            tables=[f"results/paths/{run.name}/{m}.parquet" for run in family_runs("interpolation_strips") for m in strip_methods(run)],
            decoded=[f"results/decoded/{run.name}/{m}.npz" for run in family_runs("interpolation_strips") for m in strip_methods(run)],
            src=src("stages/figures", "plots"),
        output:
            png=[
                figure_report(
                    _figure(run, "interpolation_strips"), "../report/interpolation_strips.rst", "Interpolation", run, "interpolation strips"
                )
                for run in family_runs("interpolation_strips")
            ],
            svg=[_figure(run, "interpolation_strips", "svg") for run in family_runs("interpolation_strips")],
        params:
            runs=[run.name for run in family_runs("interpolation_strips")],
            counts=[len(strip_methods(run)) for run in family_runs("interpolation_strips")],
            max_pairs=config["figures"]["strip_pairs"],
        log:
            "results/logs/plot_interpolation_strips.log",
        script:
            "../scripts/plot_figure.py"


if family_runs("prior_pair_strips"):

    rule plot_prior_pair_strips:
        input:
            tables=[f"results/paths/{run.name}/prior_pairs.parquet" for run in family_runs("prior_pair_strips")],
            decoded=[f"results/decoded/{run.name}/prior_pairs.npz" for run in family_runs("prior_pair_strips")],
            src=src("stages/figures", "plots"),
        output:
            png=[
                figure_report(
                    _figure(run, "prior_pair_strips"), "../report/prior_pair_strips.rst", "Interpolation", run, "prior-pair strips"
                )
                for run in family_runs("prior_pair_strips")
            ],
            svg=[_figure(run, "prior_pair_strips", "svg") for run in family_runs("prior_pair_strips")],
        params:
            runs=[run.name for run in family_runs("prior_pair_strips")],
            max_pairs=config["figures"]["strip_pairs"],
        log:
            "results/logs/plot_prior_pair_strips.log",
        script:
            "../scripts/plot_figure.py"


if traversal_jobs():

    rule plot_traversal:
        input:
            tables=[f"results/paths/{run.name}/{m}.parquet" for run, m in traversal_jobs()],
            decoded=[f"results/decoded/{run.name}/{m}.npz" for run, m in traversal_jobs()],
            src=src("stages/figures", "plots"),
        output:
            png=[figure_report(_figure(run, m), f"../report/{m}.rst", "Traversal", run, m) for run, m in traversal_jobs()],
            svg=[_figure(run, m, "svg") for run, m in traversal_jobs()],
        params:
            runs=[run.name for run, _ in traversal_jobs()],
            methods=[m for _, m in traversal_jobs()],
        log:
            "results/logs/plot_traversal.log",
        script:
            "../scripts/plot_figure.py"


if family_runs("spiral"):

    rule plot_spiral:
        input:
            tables=[f"results/paths/{run.name}/spiral.parquet" for run in family_runs("spiral")],
            decoded=[f"results/decoded/{run.name}/spiral.npz" for run in family_runs("spiral")],
            src=src("stages/figures", "plots"),
        output:
            png=[figure_report(_figure(run, "spiral"), "../report/spiral.rst", "Latent space", run, "spiral walk") for run in family_runs("spiral")],
            svg=[_figure(run, "spiral", "svg") for run in family_runs("spiral")],
            gif=[
                figure_report(_figure(run, "spiral", "gif"), "../report/spiral_gif.rst", "Latent space", run, "spiral walk (animation)")
                for run in family_runs("spiral")
            ],
        params:
            runs=[run.name for run in family_runs("spiral")],
            fps=config["figures"]["gif_fps"],
        log:
            "results/logs/plot_spiral.log",
        script:
            "../scripts/plot_figure.py"


rule plot_path_norms:
    input:
        norms=[f"results/stats/{run.name}/path_norms.csv" for run in RUNS],
        src=src("stages/figures", "plots", "figures_geometry"),
    output:
        png=[
            figure_report(_figure(run, "path_norms"), "../report/path_norms.rst", "Norm concentration", run, "norm along paths")
            for run in RUNS
        ],
        svg=[_figure(run, "path_norms", "svg") for run in RUNS],
    params:
        runs=[run.name for run in RUNS],
        dims=[run.dim for run in RUNS],
    log:
        "results/logs/plot_path_norms.log",
    script:
        "../scripts/plot_figure.py"


rule plot_quality:
    input:
        quality=[f"results/stats/{run.name}/path_quality.csv" for run in RUNS],
        summary=[f"results/stats/{run.name}/path_quality_summary.csv" for run in RUNS],
        src=src("stages/figures", "plots", "figures_geometry"),
    output:
        png=[
            figure_report(
                _figure(run, "path_quality"),
                "../report/path_quality_lines.rst" if run.dataset == "lines" else "../report/path_quality_digits.rst",
                "Interpolation quality",
                run,
                "quality along paths",
            )
            for run in RUNS
        ],
        svg=[_figure(run, "path_quality", "svg") for run in RUNS],
    params:
        runs=[run.name for run in RUNS],
    log:
        "results/logs/plot_quality.log",
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
