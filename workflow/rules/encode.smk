# Stage 3: encode every example with the run's encoder means -> one Parquet per run.


rule encode:
    input:
        unpack(model_files),
        data="results/data/{dataset}.npz",
        src=sources("encode"),
    output:
        f"results/latents/{RUN}.parquet",
    log:
        f"results/logs/encode/{RUN}.log",
    benchmark:
        f"results/benchmarks/encode/{RUN}.tsv"
    retries: 1
    conda:
        CONDA_ENV
    threads: config["threads"]
    resources:
        mem_mb=run_job_mem_mb,
        runtime=run_job_minutes(20),
    params:
        batch_size=config["encode"]["batch_size"],
        device=config["device"],
    script:
        "../scripts/encode.py"
