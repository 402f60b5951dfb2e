# Stage 5: decode every path table of a run -> results/decoded/{run}/{method}.npz.
# One job per run (a procedurally defined rule each, since the applicable methods differ
# between runs): the decoder is loaded once, not once per method, so a run's decoding
# costs one torch start-up instead of one per method.

for _run, _methods in RUN_METHODS.items():
    if not _methods:
        continue

    rule:
        name:
            f"decode_{_run.dataset}_{_run.model}_z{_run.dim}"
        input:
            paths=[f"results/paths/{_run.name}/{m}.parquet" for m in _methods],
            model=f"results/models/{_run.name}/model.pt",
            meta=f"results/models/{_run.name}/meta.json",
            src=src("stages/decode", "models", "training"),
        output:
            [f"results/decoded/{_run.name}/{m}.npz" for m in _methods],
        params:
            batch_size=config["decode"]["batch_size"],
            device=config["device"],
        log:
            f"results/logs/decode/{_run.name}.log",
        benchmark:
            f"results/benchmarks/decode/{_run.name}.tsv"
        script:
            "../scripts/decode.py"
