# Stage 5: decode every path table of a run in one job (the decoder loads once) -> results/decoded/{run}/{method}.npz.


rule decode:
    input:
        unpack(model_files),
        paths=f"results/paths/{RUN}",
        src=sources("decode"),
    output:
        directory(f"results/decoded/{RUN}"),
    log:
        f"results/logs/decode/{RUN}.log",
    benchmark:
        f"results/benchmarks/decode/{RUN}.tsv"
    retries: 1
    group:
        "walk"
    conda:
        CONDA_ENV
    threads: config["threads"]
    resources:
        mem_mb=run_job_mem_mb,
        runtime=run_job_minutes(30),
    params:
        methods=run_methods,
        batch_size=config["decode"]["batch_size"],
        device=config["device"],
    script:
        "../scripts/decode.py"
