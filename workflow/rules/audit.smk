# Audit: the manifest of every artifact (from the job records under results/provenance/), the report as a
# job of the DAG (so `snakemake -n` writes nothing), and `snakemake verify` (also: the `latentwalk verify` command).
# The report reads the artifacts, not the manifest (which is not in it): the two last jobs run side by side.


rule manifest:
    input:
        artifacts=artifact_targets(),
        src=sources("manifest"),
    output:
        "results/manifest.tsv",
    log:
        "results/logs/manifest.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        results=lambda wildcards, output: os.path.dirname(output[0]),
    script:
        "../scripts/manifest.py"


rule report:
    input:
        artifacts=artifact_targets(),
        captions=sorted(os.path.relpath(p) for p in Path(workflow.basedir, "workflow", "report").glob("*.rst")),
        src=sources("report"),
    output:
        "results/report.html",
    log:
        "results/logs/report.log",
    localrule: True
    conda:
        CONDA_ENV
    params:
        snakefile=os.path.relpath(workflow.main_snakefile),
        config=config,
        targets=lambda wildcards, input: list(input.artifacts),
    script:
        "../scripts/report.py"


rule verify:
    input:
        src=sources("verify"),
    log:
        "results/logs/verify.log",
    # no input files but the code: `snakemake verify` checks what is there and never rebuilds anything first
    localrule: True
    conda:
        CONDA_ENV
    params:
        results="results",
        manifest="results/manifest.tsv",
    script:
        "../scripts/verify.py"
