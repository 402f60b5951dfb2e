# latentwalk: train (V)AEs, walk their latent spaces, measure, report.
# Thin on purpose: config validation, runs and targets live in workflow/rules/common.smk, one .smk per stage,
# the domain's names (datasets, model kinds, path methods) in workflow/latentwalk/core/registry.py.
import os
import sys
from pathlib import Path

from snakemake.utils import min_version

# This workflow's own package, whatever else is installed: first on this process's path, and first on the path of
# every job (jobs inherit the environment, locally and on a cluster, where each job step reads this file again).
PACKAGE_ROOT = str(Path(workflow.basedir, "workflow"))
sys.path.insert(0, PACKAGE_ROOT)
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        dict.fromkeys([PACKAGE_ROOT, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))])
    )
)

from latentwalk.core.config import check_config_file
from latentwalk.core.io import LatentwalkError
from latentwalk.core.logs import stop

min_version("9.0")

try:  # name the file, line and key of a YAML error or a duplicate key (Snakemake's loader names neither)
    for path in [*(["config.yaml"] if os.path.exists("config.yaml") else []), *workflow.overwrite_configfiles]:
        check_config_file(path)
except LatentwalkError as error:
    stop(f"invalid config: {error}")


configfile: "config.yaml"


include: "workflow/rules/common.smk"


wildcard_constraints:
    **CONSTRAINTS,


include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/encode.smk"
include: "workflow/rules/paths.smk"
include: "workflow/rules/decode.smk"
include: "workflow/rules/stats.smk"
include: "workflow/rules/figures.smk"
include: "workflow/rules/explore.smk"
include: "workflow/rules/benchmark.smk"
include: "workflow/rules/audit.smk"


report: "workflow/report/workflow.rst"


rule all:
    default_target: True
    input:
        all_targets(),
    localrule: True
