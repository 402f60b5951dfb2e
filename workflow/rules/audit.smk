# Audit: the manifest of every artifact (from the job records under results/provenance/), the report as a
# job of the DAG (so `snakemake -n` writes nothing), and `snakemake verify` (also: the `latentwalk verify` command).


rule manifest:
    localrule: True
    input:
        artifacts=artifact_targets(),
        src=src("io", "audit"),
    output:
        "results/manifest.tsv",
    params:
        results="results",
    log:
        "results/logs/manifest.log",
    script:
        "../scripts/manifest.py"


rule report:
    localrule: True
    input:
        manifest="results/manifest.tsv",
        captions=sorted(os.path.relpath(p) for p in Path(workflow.basedir, "workflow", "report").glob("*.rst")),
        src=src("io", "audit"),
    output:
        "results/report.html",
    params:
        snakefile=os.path.relpath(workflow.main_snakefile),
        config=config,
        target="results/manifest.tsv",
    log:
        "results/logs/report.log",
    script:
        "../scripts/report.py"


rule verify:
    # no input files but the code: `snakemake verify` checks what is there and never rebuilds anything first
    localrule: True
    input:
        src=src("io", "audit"),
    params:
        results="results",
        manifest="results/manifest.tsv",
    log:
        "results/logs/verify.log",
    script:
        "../scripts/verify.py"
