# Stage 1: datasets -> results/data/{dataset}.npz + provenance JSON.
from latentwalk.data.custom import image_files
from latentwalk.data.idx import MNIST_FILES


def mnist_dir():
    """Where the MNIST IDX files are read from: the configured dir, else the download folder."""
    mnist = config["data"]["mnist"]
    return mnist["dir"] or "results/downloads/mnist"


def data_inputs(wildcards):
    """Raw files a dataset is built from: MNIST's IDX files, or every file of a source (adding, removing or editing
    one reruns the preparation and everything after it)."""
    source = config["data"]["sources"].get(wildcards.dataset)
    if source is not None:
        path = Path(source["path"])
        return [str(path)] if path.is_file() else [str(p) for p in image_files(path)]
    if wildcards.dataset != "mnist":
        return []
    mnist = config["data"]["mnist"]
    if mnist["dir"]:
        candidates = [Path(mnist["dir"], f"{base}{ext}") for base in MNIST_FILES.values() for ext in (".gz", "")]
        return sorted(str(path) for path in candidates if path.exists())  # config validation checked the folder
    return expand("results/downloads/mnist/{file}", file=mnist["files"])


def data_params(wildcards):
    """The slice of config['data'] dataset {wildcards.dataset} depends on."""
    data = config["data"]
    params = {"test_fraction": data["test_fraction"]}
    if wildcards.dataset in data["sources"]:
        params["source"] = dict(data["sources"][wildcards.dataset])
    elif wildcards.dataset in ("lines", "views"):
        params[wildcards.dataset] = dict(data[wildcards.dataset])
    elif wildcards.dataset == "mnist":
        params["mnist"] = {"dir": mnist_dir()}
    return params


rule download_mnist:
    input:
        src=sources("download_mnist"),
    output:
        "results/downloads/mnist/{file}",
    log:
        "results/logs/download_mnist/{file}.log",
    localrule: True  # compute nodes often have no internet access
    conda:
        CONDA_ENV
    params:
        base_url=config["data"]["mnist"]["base_url"],
        sha256=lambda wildcards: config["data"]["mnist"]["sha256"].get(wildcards.file),
        timeout=config["data"]["mnist"]["timeout"],
    script:
        "../scripts/download_mnist.py"


rule prepare_data:
    input:
        raw=data_inputs,
        src=sources("prepare_data"),
    output:
        npz="results/data/{dataset}.npz",
        json=report(
            "results/data/{dataset}.json",
            caption="../report/provenance.rst",
            category="Provenance",
            subcategory="{dataset}",
            labels={"artifact": "data"},
        ),
    log:
        "results/logs/prepare_data/{dataset}.log",
    benchmark:
        "results/benchmarks/prepare_data/{dataset}.tsv"
    conda:
        CONDA_ENV
    resources:
        mem_mb=data_mem_mb,
        runtime=20,
    params:
        data=data_params,
        seed=config["seed"],
    script:
        "../scripts/prepare_data.py"
