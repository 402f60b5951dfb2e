# Config validation, run enumeration, target and parameter lookups shared by every stage.
import os
from pathlib import Path

from latentwalk.config import CLASS_DATASETS, applicable_methods, iter_runs, load_schema, validate_config
from latentwalk.idx import MNIST_FILES
from latentwalk.io import LatentwalkError

SCHEMA = Path(workflow.basedir, "workflow", "schemas", "config.schema.yaml")
try:
    validate_config(config, load_schema(SCHEMA))
except LatentwalkError as error:
    raise WorkflowError(f"invalid config: {error}") from None

RUNS = list(iter_runs(config))
PACKAGE = Path(workflow.basedir, "workflow", "latentwalk")


def src(*modules):
    """Package source files as inputs, so that editing them reruns the dependent jobs (content-checksummed)."""
    names = ("__init__", "io", "logs", "stages/__init__", *modules)
    return [os.path.relpath(Path(PACKAGE, f"{name}.py")) for name in names]


def run_paths(pattern):
    """Expand a per-run path pattern over every run of the experiment."""
    return [pattern.format(dataset=r.dataset, model=r.model, dim=r.dim) for r in RUNS]


def all_targets():
    return [
        *run_paths("results/latents/{dataset}/{model}-z{dim}.parquet"),
        *decoded_targets(),
        *stats_targets(),
        *figure_targets(),
    ]


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
    if wildcards.dataset == "lines":
        params["lines"] = dict(data["lines"])
    elif wildcards.dataset == "mnist":
        params["mnist"] = {"dir": mnist_dir()}
    return params


# ---- models -------------------------------------------------------------------------------


def model_params(wildcards):
    """Only the model settings that shape this run (beta only for beta_vae, etc.)."""
    m = config["model"]
    params = {"architecture": m["architecture"], "likelihood": m["likelihood"][wildcards.dataset]}
    if m["architecture"] == "mlp":
        params["hidden"] = list(m["hidden"])
    else:
        params["channels"] = list(m["channels"])
        params["conv_hidden"] = m["conv_hidden"]
    if params["likelihood"] == "gaussian":
        params["gaussian_sigma"] = m["gaussian_sigma"]
    if wildcards.model == "beta_vae":
        params["beta"] = m["beta"]
    return params


def train_params(wildcards):
    t = config["train"]
    return {
        "epochs": t["epochs"][wildcards.dataset],
        "batch_size": t["batch_size"],
        "kl_warmup_epochs": t["kl_warmup_epochs"],
        "learning_rate": t["learning_rate"],
        "threads": t["threads"],
    }


# ---- paths and decoding ----------------------------------------------------------------------

PAIR_METHODS = ("lerp", "slerp", "lerp_matched", "geodesic")
METHODS = load_schema(SCHEMA)["properties"]["paths"]["properties"]["methods"]["items"]["enum"]
RUN_METHODS = {run: applicable_methods(run, config["paths"]) for run in RUNS}


def decoded_targets():
    return [f"results/decoded/{run.name}/{method}.npz" for run, methods in RUN_METHODS.items() for method in methods]


def path_params(wildcards):
    """The method's own settings, plus the endpoint-pair settings for pair-based methods."""
    params = dict(config["paths"][wildcards.method])
    if wildcards.method in PAIR_METHODS:
        params["pairs"] = dict(config["paths"]["pairs"])
    return params


def path_inputs(wildcards):
    """Latents always; the decoder (and the code that loads it) too for geodesics, which minimise energy under it."""
    inputs = {"latents": "results/latents/{dataset}/{model}-z{dim}.parquet".format(**wildcards)}
    inputs["src"] = src("stages/paths", "paths", "encoding")
    if wildcards.method == "geodesic":
        inputs["src"] += src("models", "training")
        inputs["model"] = "results/models/{dataset}/{model}-z{dim}/model.pt".format(**wildcards)
        inputs["meta"] = "results/models/{dataset}/{model}-z{dim}/meta.json".format(**wildcards)
    return inputs


# ---- statistics ----------------------------------------------------------------------------------


def stats_targets():
    return [
        "results/stats/norm_concentration.csv",
        "results/stats/hypersphere.csv",
        "results/stats/summary.csv",
        "results/stats/key_numbers.rst",
    ]


def path_stats_inputs(wildcards):
    """A run's path tables and decoded frames (same method order), latents, data and (digits) classifier."""
    run = _run_of(wildcards)
    methods = RUN_METHODS[run]
    inputs = {
        "paths": [f"results/paths/{run.name}/{m}.parquet" for m in methods],
        "decoded": [f"results/decoded/{run.name}/{m}.npz" for m in methods],
        "latents": f"results/latents/{run.name}.parquet",
        "data": f"results/data/{run.dataset}.npz",
    }
    if run.dataset in CLASS_DATASETS:
        inputs["classifier"] = f"results/classifiers/{run.dataset}.npz"
    return inputs


# ---- figures --------------------------------------------------------------------------------------
# Each figure family is one job over all runs: drawing a figure takes ~0.15 s but starting a
# Python process with pandas and matplotlib ~1 s, so per-run figure jobs would be mostly start-up.

INTERPOLATIONS = ("lerp", "slerp", "lerp_matched", "geodesic")
TRAVERSALS = ("traverse_axis", "traverse_pca", "attribute", "sphere_spiral")


def _run_of(wildcards):
    return next(r for r in RUNS if (r.dataset, r.model, str(r.dim)) == (wildcards.dataset, wildcards.model, wildcards.dim))


def _figure(run, name, ext="png"):
    return f"results/figures/{run.name}/{name}.{ext}"


def family_runs(family):
    """The runs a figure family draws (in RUNS order), given the path methods each run has."""
    methods = RUN_METHODS
    needs = {
        "grid": lambda r: "grid" in methods[r],
        "interpolation_strips": lambda r: any(m in methods[r] for m in INTERPOLATIONS),
        "prior_pair_strips": lambda r: "prior_pairs" in methods[r],
        "spiral": lambda r: "spiral" in methods[r],
    }
    return [run for run in RUNS if needs.get(family, lambda r: True)(run)]


def traversal_jobs():
    """(run, method) for every traversal figure, in a fixed order."""
    return [(run, m) for run in RUNS for m in TRAVERSALS if m in RUN_METHODS[run]]


def strip_methods(run):
    """The run's interpolation methods, in the order the strips show them."""
    return [m for m in INTERPOLATIONS if m in RUN_METHODS[run]]


def figure_report(path, caption, category, run, figure):
    """Register one figure of one run in the report (subcategory = the run)."""
    return report(path, caption=caption, category=category, subcategory=run.name,
                  labels={"run": run.name, "figure": figure})


def figure_targets():
    """Every figure of every run (those its path methods allow) and the geometry figures."""
    out = [
        "results/figures/geometry/hypersphere.png",
        "results/figures/geometry/norm_histograms.png",
        "results/figures/geometry/shell_width.png",
        *[f"results/figures/geometry/sphere_spiral_n{n}.png" for n in config["figures"]["sphere"]["dims"]],
    ]
    for family in ("training_curves", "latent_scatter", "path_norms", "path_quality", "grid", "interpolation_strips",
                   "prior_pair_strips", "spiral"):
        out += [_figure(run, family) for run in family_runs(family)]
    out += [_figure(run, "spiral", "gif") for run in family_runs("spiral")]
    out += [_figure(run, method) for run, method in traversal_jobs()]
    return out
