# Stage 4: every path method that applies to a run -> results/paths/{run}/{method}.parquet.
# Methods that need the run's decoder (geodesic: torch, the model, an optimiser) run in rule decoder_paths, one job
# per run; generate_paths makes the others from the latents alone, without torch, and takes those tables in. So a
# change to one latent method's settings reruns the cheap job and what reads its paths, never a geodesic. The set
# of methods depends on the run (spiral needs d = 2, ...), so each output is a directory; the list is a param.
# Each method's settings (config paths.<method>) are a param named after the method, None in the jobs of runs it
# does not apply to: a setting reruns exactly the jobs of the runs that use it.
from latentwalk.core.registry import METHODS

#: The path methods each rule makes.
DECODER_METHODS = [name for name, method in METHODS.items() if method.needs_decoder]
LATENT_METHODS = [name for name in METHODS if name not in DECODER_METHODS]


def decoder_methods(wildcards):
    """The run's path methods that need its decoder (rule decoder_paths makes them)."""
    return [method for method in run_methods(wildcards) if method in DECODER_METHODS]


def latent_methods(wildcards):
    """The run's path methods made from its latents alone (rule generate_paths)."""
    return [method for method in run_methods(wildcards) if method in LATENT_METHODS]


def method_config(method):
    """A method's settings: its section of paths (geodesic_variance: paths.geodesic's under the variance metric)."""
    return METHODS[method].config(config["paths"])


def method_params(methods, of_run):
    """One param per method of `methods`: its settings (method_config) in the jobs of the runs whose
    `of_run(wildcards)` lists it, else None."""
    return {
        method: (lambda wildcards, method=method: method_config(method) if method in of_run(wildcards) else None)
        for method in methods
    }


def pairs_params(of_run):
    """How endpoint pairs are chosen (paths.pairs), for the jobs whose methods `of_run` include an interpolation."""
    return lambda wildcards: (
        config["paths"]["pairs"] if any(METHODS[m].family == "interpolation" for m in of_run(wildcards)) else None
    )


def generate_paths_inputs(wildcards):
    """The run's latents, and the decoder_paths tables when the run has methods that need the decoder."""
    inputs = {"latents": f"results/latents/{run_of(wildcards).name}.parquet"}
    if decoder_methods(wildcards):
        inputs["made"] = f"results/decoder_paths/{run_of(wildcards).name}"
    return inputs


rule decoder_paths:
    input:
        unpack(model_files),
        latents=f"results/latents/{RUN}.parquet",
        data="results/data/{dataset}.npz",
        src=sources("decoder_paths"),
    output:
        directory(f"results/decoder_paths/{RUN}"),
    log:
        f"results/logs/decoder_paths/{RUN}.log",
    benchmark:
        f"results/benchmarks/decoder_paths/{RUN}.tsv"
    retries: 1
    group:
        "walk"
    conda:
        CONDA_ENV
    threads: config["threads"]
    resources:
        mem_mb=run_job_mem_mb,
        runtime=run_job_minutes(60),
        gpu=gpus,
    params:
        **method_params(DECODER_METHODS, decoder_methods),
        run=RUN,
        methods=decoder_methods,
        pairs=pairs_params(decoder_methods),
        seed=config["seed"],
        device=config["device"],
    script:
        "../scripts/decoder_paths.py"


rule generate_paths:
    input:
        unpack(generate_paths_inputs),
        src=sources("generate_paths"),
    output:
        directory(f"results/paths/{RUN}"),
    log:
        f"results/logs/generate_paths/{RUN}.log",
    benchmark:
        f"results/benchmarks/generate_paths/{RUN}.tsv"
    retries: 1
    group:
        "walk"
    conda:
        CONDA_ENV
    resources:
        mem_mb=run_job_mem_mb,
        runtime=run_job_minutes(30),
    params:
        **method_params(LATENT_METHODS, latent_methods),
        run=RUN,
        methods=run_methods,
        pairs=pairs_params(latent_methods),
        seed=config["seed"],
    script:
        "../scripts/generate_paths.py"
