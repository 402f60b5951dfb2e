# Config validation, run enumeration, target and parameter lookups shared by every stage.
import os
from pathlib import Path

from latentwalk.config import iter_runs, load_schema, validate_config
from latentwalk.idx import MNIST_FILES
from latentwalk.io import LatentwalkError

SCHEMA = Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
try:
    validate_config(config, load_schema(SCHEMA))
except LatentwalkError as error:
    raise WorkflowError(f"invalid config: {error}") from None

RUNS = list(iter_runs(config))
RUN = "{dataset}/{model}-z{dim}"
PACKAGE = Path(workflow.basedir) / "workflow" / "latentwalk"


wildcard_constraints:
    dataset="digits|lines|mnist",
    model="ae|vae|beta_vae",
    dim=r"[1-9][0-9]*",
    file=r"[A-Za-z0-9._-]+",


def src(*modules):
    """Package source files a rule depends on: editing them reruns the rule (content-checksummed)."""
    return [os.path.relpath(PACKAGE / f"{name}.py") for name in ("__init__", "io", "logs", "stages", *modules)]


def run_paths(pattern):
    """Expand a per-run path pattern over every run of the experiment."""
    return [pattern.format(dataset=r.dataset, model=r.model, dim=r.dim) for r in RUNS]


def all_targets():
    return [
        *run_paths("results/latents/" + RUN + ".parquet"),
        *run_paths("results/figures/" + RUN + "/training_curves.png"),
        *run_paths("results/figures/" + RUN + "/latent_scatter.png"),
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
        directory = Path(mnist["dir"])
        found = [
            str(directory / f"{base}{ext}")
            for base in MNIST_FILES.values()
            for ext in (".gz", "")
            if (directory / f"{base}{ext}").exists()
        ]
        if not found:
            raise WorkflowError(
                f"data.mnist.dir {mnist['dir']}: no MNIST IDX files there "
                f"(expected e.g. {MNIST_FILES['test_images']}.gz)"
            )
        return sorted(found)
    return [f"results/downloads/mnist/{name}" for name in mnist["files"]]


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
