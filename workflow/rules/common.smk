# What every stage shares: config validation, the runs, the default targets, resources and each rule's sources.
# A run {dataset}/{model}-z{dim} is the unit of work. Every per-run rule is a plain wildcard rule, and its job handles
# the whole run; the config only decides which runs (and so which jobs) exist. Input functions and parameter
# lookups that one rule uses sit beside that rule, in its stage's file.
import os
import sys
from pathlib import Path

from latentwalk.core.config import datasets_of, iter_runs, load_schema, validate_config
from latentwalk.core.io import LatentwalkError
from latentwalk.core.logs import end_failed_run, end_timers, stop, watch_signals
from latentwalk.core.registry import (
    DATASETS,
    METHODS,
    RUN_FIGURES,
    VIEW_DATASETS,
    VIEW_FIGURES,
    WILDCARD_CONSTRAINTS,
    Run,
    applicable_methods,
)
from latentwalk.core.sources import script_sources
from latentwalk.report.audit import preflight

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
    stop(f"invalid config: {error}")

RUNS = list(iter_runs(config))

try:  # before any job is scheduled: the folders it writes, every trained run's checkpoint against its record
    if workflow.is_main_process:
        preflight(RUNS, "results")
except LatentwalkError as error:
    stop(str(error))
#: Every listed dataset, built in or a source (data.sources): its label kind, scorer and image side.
DATASET_INFO = datasets_of(config)
#: Models trained elsewhere (config external_models), by name: analysed from rule import_model on, never trained.
EXTERNAL = config["external_models"]
#: A wildcard constraint that matches no name (a rule for external models when there are none).
NOTHING = "(?!)"
#: The wildcard constraints, with the config's source names among the datasets and its external models' names.
CONSTRAINTS = {
    **WILDCARD_CONSTRAINTS,
    "dataset": "|".join(dict.fromkeys([*DATASETS, *DATASET_INFO])),
    "model": "|".join([WILDCARD_CONSTRAINTS["model"], *EXTERNAL]),
}
#: The jobs' conda environment (used with --sdm conda; pinned like constraints.txt), relative to workflow/rules/.
CONDA_ENV = "../envs/latentwalk.yaml"
#: The per-run path prefix every per-run rule shares.
RUN = "{dataset}/{model}-z{dim}"


def sources(rule):
    """The package files the script of `rule` loads, as inputs: editing one reruns exactly the jobs that import it
    (content-checksummed). Derived from the imports (latentwalk.core.sources), never listed by hand."""
    script = Path(workflow.basedir, "workflow", "scripts", f"{rule}.py")
    return script_sources(script, Path(workflow.basedir, "workflow"))


def run_of(wildcards):
    """The Run a job's wildcards name."""
    info = DATASET_INFO[wildcards.dataset]
    return Run(wildcards.dataset, wildcards.model, int(wildcards.dim), info.label_kind, info.classes)


def model_files(wildcards):
    """The files a run's model is loaded from (latentwalk.model.checkpoint.load_run_model): its meta.json with the
    weights trained here, or with an external model's encoder and decoder (so that editing either reruns the run)."""
    meta = f"results/models/{run_of(wildcards).name}/meta.json"
    if wildcards.model in EXTERNAL:
        return {
            "encoder": EXTERNAL[wildcards.model]["encoder"],
            "decoder": EXTERNAL[wildcards.model]["decoder"],
            "meta": meta,
        }
    return {"model": f"results/models/{run_of(wildcards).name}/model.pt", "meta": meta}


def run_methods(wildcards):
    """The configured path methods that apply to the job's run, in config order (a param: the set is part of the job)."""
    return applicable_methods(run_of(wildcards), config["paths"])


# ---- targets ------------------------------------------------------------------------------

#: The per-run statistics tables (output name -> file stem under results/stats/{run}/).
PATH_STATS = {
    "path_norms": "path_norms",
    "norm_summary": "path_norm_summary",
    "encoded_norms": "encoded_norms",
    "quality": "path_quality",
    "quality_summary": "path_quality_summary",
}


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
        out += [f"results/acai_benchmark/{name}" for name in ("table.csv", "table.png", "curve.png")]
    return out


# ---- resources ----------------------------------------------------------------------------
# What a job asks a cluster for (profiles/slurm); local runs use only threads and gpu. Memory grows with each
# retry (rules with `retries:`), and training time and memory scale with the dataset and epochs.


def dataset_images(dataset):
    """How many images a dataset has (the configured n for generated data; an upper bound for MNIST) and the values
    each holds (pixels x channels)."""
    settings = config["data"]["sources"].get(dataset) or config["data"].get(dataset) or {}
    side = DATASET_INFO[dataset].side or settings["size"]
    count = {"digits": 1797, "mnist": 70000}.get(dataset) or settings.get("n", 100_000)  # sources: a bound
    return count, side * side * settings.get("channels", 1)


def data_mem_mb(wildcards, attempt=1):
    """The data as float32 three times over (host, device, batches) plus 1.5 GB, doubled on each retry."""
    count, pixels = dataset_images(wildcards.dataset)
    return (1500 + 3 * count * pixels * 4 // 1_000_000) * 2 ** (attempt - 1)


def run_job_mem_mb(wildcards, attempt):
    """Per-run jobs after training (paths, decoding, statistics, figures): 2 GB, doubled on each retry."""
    return 2000 * 2 ** (attempt - 1)


def run_job_minutes(minutes):
    """A per-run job's time limit: ``minutes`` per attempt."""
    return lambda wildcards, attempt: minutes * attempt


def gpus(wildcards):
    """Jobs that run a model ask for a GPU when the config says device: cuda."""
    return 1 if config["device"] == "cuda" else 0


# The profiles' max-jobs-per-timespan (1000/10s) cuts the scheduler's timer wake-ups tenfold; its last timers would
# hold Snakemake's exit until they fire (latentwalk.core.logs.end_timers).
onstart:
    watch_signals()


onsuccess:
    end_timers()


onerror:
    end_timers()
    end_failed_run(log)
