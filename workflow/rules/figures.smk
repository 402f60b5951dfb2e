# Figures, rendered from artifacts only, each registered in the report with a caption.


rule plot_training_curves:
    input:
        history="results/models/{dataset}/{model}-z{dim}/train_log.csv",
        src=src("stages/figures", "plots"),
    output:
        png=report(
            "results/figures/{dataset}/{model}-z{dim}/training_curves.png",
            caption="../report/training_curves.rst",
            category="Data and training",
            subcategory="{dataset}",
            labels={"run": "{model}-z{dim}", "figure": "training curves"},
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
            subcategory="{dataset}",
            labels={"run": "{model}-z{dim}", "figure": "latent scatter"},
        ),
        svg="results/figures/{dataset}/{model}-z{dim}/latent_scatter.svg",
    params:
        max_points=config["figures"]["scatter_max_points"],
        seed=config["seed"],
    log:
        "results/logs/plot_latent_scatter/{dataset}/{model}-z{dim}.log",
    script:
        "../scripts/plot_latent_scatter.py"
