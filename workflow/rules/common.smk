# Config validation, the runs, targets and the lookups every stage shares.
# A run {dataset}/{model}-z{dim} is the unit of work: every per-run rule is a plain wildcard rule,
# whose job handles the whole run; the config only decides which runs (and so which jobs) exist.
import os
import sys
from pathlib import Path

from latentwalk.config import architecture_of, iter_runs, load_schema, validate_config
from latentwalk.idx import MNIST_FILES
from latentwalk.io import LatentwalkError
from latentwalk.logs import end_timers
from latentwalk.explorer import ASSETS as EXPLORER_ASSETS
from latentwalk.registry import (
    BENCHMARK_MODELS,
    DATASETS,
    METHODS,
    MODELS,
    PAIR_INTERPOLATIONS,
    RUN_FIGURES,
    VIEW_DATASETS,
    VIEW_FIGURES,
    WALK_REPORT,
    Run,
    applicable_methods,
    dropped_methods,
    geometry_report,
    parse_model,
)

SCHEMA = Path(workflow.basedir, "workflow", "schemas", "config.schema.yaml")


def jobs_run_here():
    """Whether this process schedules jobs on this machine, so that `device: cuda` can be checked before any job.

    Not in a job step (a cluster node runs one job of any rule, and only training needs the GPU), and not when an
    executor or a profile (which may name one) is given: Snakemake chooses the executor after reading the Snakefile,
    so the command line is all there is to go by. On a cluster the training job checks the device on its node."""
    cluster = any(
        arg in ("-e", "--executor", "--profile") or arg.startswith(("--executor=", "--profile="))
        for arg in sys.argv[1:]
    )
    return workflow.is_main_process and not cluster


try:
    validate_config(config, load_schema(SCHEMA), check_device=jobs_run_here())
except LatentwalkError as error:
    raise WorkflowError(f"invalid config: {error}") from None

RUNS = list(iter_runs(config))
#: The jobs' conda environment (used with --sdm conda; pinned like constraints.txt), relative to workflow/rules/.
CONDA_ENV = "../envs/latentwalk.yaml"
PACKAGE = Path(workflow.basedir, "workflow", "latentwalk")
#: The per-run path prefix every per-run rule shares.
RUN = "{dataset}/{model}-z{dim}"


def src(*modules):
    """Package source files as inputs, so that editing them reruns the dependent jobs (content-checksummed).

    Every rule script imports the package and its job log; the rest is listed per rule and checked by
    tests/test_structure.py against the imports the rule's code really makes.
    """
    return [os.path.relpath(Path(PACKAGE, f"{name}.py")) for name in ("__init__", "logs", *modules)]


def run_of(wildcards):
    """The Run a job's wildcards name."""
    return Run(wildcards.dataset, wildcards.model, int(wildcards.dim))


def run_methods(wildcards):
    """The configured path methods that apply to the job's run, in config order (a param: the set is part of the job)."""
    return applicable_methods(run_of(wildcards), config["paths"])


def all_targets():
    """The default target: every artifact, the manifest that lists them, and the report."""
    return [*artifact_targets(), "results/manifest.tsv", "results/report.html"]


def artifact_targets():
    """Every run's artifacts (a run's set of walk figures lives in one directory) and the cross-run ones."""
    out = []
    for run in RUNS:
        out.append(f"results/latents/{run.name}.parquet")
        out.append(f"results/decoded/{run.name}")
        out += [f"results/stats/{run.name}/{stem}.csv" for stem in PATH_STATS.values()]
        out += [f"results/figures/{run.name}/{name}.png" for name in RUN_FIGURES]
        if run.dataset in VIEW_DATASETS:
            out += [f"results/figures/{run.name}/{name}.png" for name in VIEW_FIGURES]
        out.append(f"results/figures/{run.name}/walks")
        out.append(f"results/explorer/{run.name}.html")
    out += [
        "results/stats/norm_concentration.csv",
        "results/stats/hypersphere.csv",
        "results/stats/summary.csv",
        "results/stats/key_numbers.rst",
        "results/stats/runs.csv",
        "results/figures/comparison",
        *[f"results/figures/data/{dataset}.png" for dataset in config["datasets"] if dataset in VIEW_DATASETS],
        "results/figures/geometry",
    ]
    if config["acai_benchmark"]["enabled"]:
        out += ["results/acai_benchmark/table.csv", "results/acai_benchmark/table.png"]
    return out


# ---- resources ----------------------------------------------------------------------------
# What a job asks a cluster for (profiles/slurm); local runs use only threads and gpu. Memory grows with
# each retry (rules with `retries:`), and training time and memory scale with the dataset and epochs.


def dataset_images(dataset):
    """How many images a dataset has (the configured n for generated data; an upper bound for MNIST)."""
    side = DATASETS[dataset].side or config["data"][dataset]["size"]
    count = {"digits": 1797, "mnist": 70000}.get(dataset) or config["data"][dataset]["n"]
    return count, side * side


def train_mem_mb(wildcards, attempt):
    """The data as float32 three times over (host, device, batches) plus 1.5 GB, doubled on each retry."""
    count, pixels = dataset_images(wildcards.dataset)
    return (1500 + 3 * count * pixels * 4 // 1_000_000) * 2 ** (attempt - 1)


def train_runtime(wildcards, attempt):
    """Minutes: 10 plus the epochs at a pessimistic 1,000 images per second (18x below this CPU), per attempt."""
    count, _ = dataset_images(wildcards.dataset)
    return (10 + config["train"]["epochs"][wildcards.dataset] * count // 60_000) * attempt


def run_job_mem_mb(wildcards, attempt):
    """Per-run jobs after training (paths, decoding, statistics, figures): 2 GB, doubled on each retry."""
    return 2000 * 2 ** (attempt - 1)


def gpus(wildcards):
    """Training asks for a GPU when the config says device: cuda."""
    return 1 if config["device"] == "cuda" else 0


# ---- data -------------------------------------------------------------------------------


def mnist_dir():
    """Where the MNIST IDX files are read from: the configured dir, else the download folder."""
    mnist = config["data"]["mnist"]
    return mnist["dir"] or "results/downloads/mnist"


def data_inputs(wildcards):
    """Raw files a dataset is built from (only MNIST has any)."""
    if wildcards.dataset != "mnist":
        return []
    mnist = config["data"]["mnist"]
    if mnist["dir"]:
        candidates = [Path(mnist["dir"], f"{base}{ext}") for base in MNIST_FILES.values() for ext in (".gz", "")]
        found = [str(path) for path in candidates if path.exists()]
        if not found:
            raise WorkflowError(
                f"data.mnist.dir {mnist['dir']}: no MNIST IDX files there "
                f"(expected e.g. {MNIST_FILES['test_images']}.gz)"
            )
        return sorted(found)
    return expand("results/downloads/mnist/{file}", file=mnist["files"])


def data_params(wildcards):
    """The slice of config['data'] dataset {wildcards.dataset} depends on."""
    data = config["data"]
    params = {"test_fraction": data["test_fraction"]}
    if wildcards.dataset in ("lines", "views"):
        params[wildcards.dataset] = dict(data[wildcards.dataset])
    elif wildcards.dataset == "mnist":
        params["mnist"] = {"dir": mnist_dir()}
    return params


# ---- models -------------------------------------------------------------------------------


def _model_settings(architecture, likelihood, kind):
    """Only the model settings that shape a model (the Gaussian noise scale only for Gaussian likelihoods, ACAI's
    weights only for ACAI, etc.)."""
    m = config["model"]
    params = {"architecture": architecture, "likelihood": likelihood}
    if architecture == "mlp":
        params["hidden"] = list(m["hidden"])
    elif architecture == "conv":
        params["channels"] = list(m["channels"])
        params["conv_hidden"] = m["conv_hidden"]
    else:
        params["depth"] = m["depth"]
        params["latent_width"] = m["latent_width"]
    if likelihood == "gaussian":
        params["gaussian_sigma"] = m["gaussian_sigma"]
    if MODELS[kind].adversarial:
        params["acai_lambda"] = m["acai"]["lambda"]
        params["acai_gamma"] = m["acai"]["gamma"]
    return params


def model_params(wildcards):
    """A run's model settings; a swept KL weight (beta_vae) is part of the run's model name, not a param."""
    m = config["model"]
    return _model_settings(
        architecture_of(config, wildcards.dataset),
        m["likelihood"][wildcards.dataset],
        parse_model(wildcards.model)[0],
    )


def acai_model_params(wildcards):
    """The line benchmark's model settings: its own architecture, the model section's layer sizes and weights."""
    return _model_settings(
        config["acai_benchmark"]["architecture"], config["model"]["likelihood"]["lines"], wildcards.bmodel
    )


def acai_train_params(wildcards):
    b = config["acai_benchmark"]
    keys = ("epochs", "batch_size", "learning_rate")
    return {**{k: b[k] for k in keys}, "threads": config["train"]["threads"]}


def train_params(wildcards):
    t = config["train"]
    return {
        "epochs": t["epochs"][wildcards.dataset],
        "batch_size": t["batch_size"],
        "kl_warmup_epochs": t["kl_warmup_epochs"],
        "learning_rate": t["learning_rate"],
        "threads": t["threads"],
    }


# ---- paths ----------------------------------------------------------------------------------


def decoder_methods(wildcards):
    """The run's path methods that need its decoder (rule decoder_paths makes them)."""
    return [method for method in run_methods(wildcards) if METHODS[method].needs_decoder]


def generate_paths_inputs(wildcards):
    """The run's latents, and the decoder_paths tables when the run has decoder-driven methods."""
    run = run_of(wildcards)
    inputs = {"latents": f"results/latents/{run.name}.parquet"}
    if decoder_methods(wildcards):
        inputs["made"] = f"results/decoder_paths/{run.name}"
    return inputs


def latent_path_settings(wildcards):
    """Settings of the run's methods made from the latents alone (generate_paths)."""
    return path_settings(wildcards, [m for m in run_methods(wildcards) if not METHODS[m].needs_decoder])


def decoder_path_settings(wildcards):
    """Settings of the run's decoder-driven methods (decoder_paths)."""
    return path_settings(wildcards, decoder_methods(wildcards))


def path_settings(wildcards, methods):
    """Each method with its own config section (plus the endpoint-pair settings for pair interpolations)."""
    settings = {}
    for method in methods:
        settings[method] = dict(config["paths"][method])
        if method in PAIR_INTERPOLATIONS:
            settings[method]["pairs"] = dict(config["paths"]["pairs"])
    return settings


def explorer_overlays(wildcards):
    """The run's path methods the explorer draws over its scatter (config explorer.overlays), in registry order."""
    wanted = set(config["explorer"]["overlays"])
    return [method for method in run_methods(wildcards) if method in wanted]


# ---- statistics -----------------------------------------------------------------------------

#: The per-run statistics tables (output name -> file stem under results/stats/{run}/).
PATH_STATS = {
    "path_norms": "path_norms",
    "norm_summary": "path_norm_summary",
    "encoded_norms": "encoded_norms",
    "quality": "path_quality",
    "quality_summary": "path_quality_summary",
}


def path_stats_inputs(wildcards):
    """The run's path and decoded directories, latents, data and, for class-labelled data, the frame classifier."""
    run = run_of(wildcards)
    inputs = {
        "paths": f"results/paths/{run.name}",
        "decoded": f"results/decoded/{run.name}",
        "latents": f"results/latents/{run.name}.parquet",
        "data": f"results/data/{run.dataset}.npz",
    }
    if DATASETS[run.dataset].scorer == "classifier":
        inputs["classifier"] = f"results/classifiers/{run.dataset}.npz"
    return inputs


def scoring_params(wildcards):
    """How the run's decoded frames are scored: the dataset's scorer and the settings it needs."""
    scorer = DATASETS[wildcards.dataset].scorer
    return {"scorer": scorer, "lines": dict(config["data"]["lines"])} if scorer == "lines" else {"scorer": scorer}


# ---- report ---------------------------------------------------------------------------------


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


def geometry_category(wildcards):
    """A geometry figure's report category, by file name (registry.GEOMETRY_REPORT; caption: geometry_figures.rst)."""
    return geometry_report(wildcards.figure)[0]


def geometry_subcategory(wildcards):
    return geometry_report(wildcards.figure)[1]


def geometry_labels(wildcards):
    return geometry_report(wildcards.figure)[2]


def walk_labels(wildcards):
    return {"run": RUN, "figure": WALK_REPORT[f"{wildcards.figure}.{wildcards.ext}"][1]}


# ---- a run's figures: one job per run (plot_walks, or plot_view_walks for views runs) ----------


def walk_figure_inputs():
    """What every run's figures read: the training log and latents (the model's diagnostics), the paths, their
    decoded frames and the path statistics."""
    return {
        "history": f"results/models/{RUN}/train_log.csv",
        "latents": f"results/latents/{RUN}.parquet",
        "paths": f"results/paths/{RUN}",
        "decoded": f"results/decoded/{RUN}",
        "path_norms": f"results/stats/{RUN}/path_norms.csv",
        "quality": f"results/stats/{RUN}/path_quality.csv",
        "quality_summary": f"results/stats/{RUN}/path_quality_summary.csv",
    }


def walk_figure_outputs():
    """Every run's figures: the training curves and latent scatter, the decoded walks (one directory, its set
    depending on the run's methods) and the norm and quality along the paths."""
    return {
        "training_curves_png": run_figure(
            "training_curves", "training_curves.rst", "Data and training", "training curves"
        ),
        "training_curves_svg": f"results/figures/{RUN}/training_curves.svg",
        "latent_scatter_png": run_figure("latent_scatter", "latent_scatter.rst", "Latent space", "latent scatter"),
        "latent_scatter_svg": f"results/figures/{RUN}/latent_scatter.svg",
        "walks": report(
            directory(f"results/figures/{RUN}/walks"),
            patterns=["{figure}.{ext,png|gif}"],
            caption="../report/walk_figures.rst",
            category=walk_category,
            subcategory=RUN,
            labels=walk_labels,
        ),
        "path_norms_png": run_figure("path_norms", "path_norms.rst", "Norm concentration", "norm along paths"),
        "path_norms_svg": f"results/figures/{RUN}/path_norms.svg",
        "path_quality_png": run_figure(
            "path_quality", "path_quality.rst", "Interpolation quality", "quality along paths"
        ),
        "path_quality_svg": f"results/figures/{RUN}/path_quality.svg",
    }


#: Datasets of each path-figure rule: views runs also get the viewpoint figures, in the same job.
OTHER_DATASETS = "|".join(name for name in DATASETS if name not in VIEW_DATASETS)


# The profiles' max-jobs-per-timespan (1000/10s) cuts the scheduler's timer wake-ups tenfold; its last timers would
# hold Snakemake's exit for up to 10 s (latentwalk.logs.end_timers).
onsuccess:
    end_timers()


onerror:
    end_timers()
