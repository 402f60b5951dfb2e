# latentwalk: train (V)AEs, walk their latent spaces, measure, report.
# Thin on purpose: config and targets live in workflow/rules/common.smk, one .smk per stage.
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "workflow/rules/common.smk"


wildcard_constraints:
    dataset="digits|lines|mnist",
    model="ae|vae|beta_vae",
    dim=r"[1-9][0-9]*",
    file=r"[A-Za-z0-9._-]+",
    method="|".join(METHODS),


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/encode.smk"
include: "workflow/rules/paths.smk"
include: "workflow/rules/decode.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/figures.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    localrule: True
    input:
        all_targets(),
