"""Start-up and teardown: what the jobs' own tricks save the cold default run, measured in each rule's context.

A job is a fresh interpreter that imports its rule's modules, works, and exits. Two things in the code exist only
to make that cheaper, and each must save at least 3% of the cold default run's core-seconds to stay:

- **the numpy PCA** (``latentwalk.walks.projection.pca``) instead of scikit-learn's: the cost it saves is
  ``sklearn.decomposition``'s import in every job that uses the PCA and does not import scikit-learn otherwise;
- **the fast exit** (``latentwalk.core.logs``: a successful job ends its process without the interpreter's teardown):
  the cost it saves is the teardown of an interpreter holding the rule's imports.

For each rule of the default run, a fresh interpreter runs exactly the import lines of the rule's script (the
modules its job loads), then the measured step, in core-seconds (``resource.getrusage``), median of ``repeats``;
each rule's figure is multiplied by its job count in the default run (``snakemake -n``). The share is against the
cold default run's core-seconds: the orchestration section's, when it ran in the same suite run, else the last one
in ``results.csv``.
"""

from __future__ import annotations

import ast
import csv
import re
import statistics
import subprocess
import sys

from common import REPO, Row, snakemake_command

SCRIPTS = REPO / "workflow" / "scripts"
#: Rules whose jobs use the numpy PCA (path methods traverse_pca and grid, the latent scatter, the explorer's plane).
PCA_RULES = ("generate_paths", "plot_walks", "plot_views", "project", "explorer")


def job_counts() -> dict[str, int]:
    """Jobs per rule of the default run, from a dry run's job stats."""
    proc = subprocess.run(snakemake_command("-n", "--workflow-profile", "none", "--forceall"), cwd=REPO,
                          capture_output=True, text=True, check=True)
    table = (proc.stdout + proc.stderr).split("Job stats:", 1)[1]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def _imports(rule: str) -> str:
    """The import lines of a rule's script: what its job loads before it works."""
    tree = ast.parse((SCRIPTS / f"{rule}.py").read_text())
    return "\n".join(ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom))


def _child_seconds(code: str, repeats: int) -> float:
    """Median core-seconds of a fresh interpreter running ``code`` (start-up to exit, children included)."""
    import resource

    values = []
    for _ in range(repeats):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True,
                       env={"PYTHONPATH": str(REPO / "workflow"), "PATH": "/usr/bin:/bin"})
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        values.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(values)


def marginal_import(rule: str, module: str, repeats: int) -> float:
    """Core-seconds of importing ``module`` in a job of ``rule``, after its own imports (0 when it has it already)."""
    code = (f"{_imports(rule)}\nimport resource, sys\n"
            f"was = {module!r} in sys.modules\nu = resource.getrusage(resource.RUSAGE_SELF)\nimport {module}\n"
            "v = resource.getrusage(resource.RUSAGE_SELF)\n"
            "print(0.0 if was else v.ru_utime - u.ru_utime + v.ru_stime - u.ru_stime)")
    values = [float(subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True,
                                   env={"PYTHONPATH": str(REPO / "workflow"), "PATH": "/usr/bin:/bin"}).stdout)
              for _ in range(repeats)]
    return statistics.median(values)


def teardown(rule: str, repeats: int) -> float:
    """Core-seconds an interpreter holding ``rule``'s imports spends tearing down (its normal exit against
    ``os._exit``)."""
    imports = _imports(rule)
    return max(0.0, _child_seconds(imports, repeats) - _child_seconds(f"{imports}\nimport os\nos._exit(0)", repeats))


def cold_run_core_seconds(measured: list[Row]) -> tuple[float, str]:
    """The cold default run's core-seconds: from this suite run's orchestration rows, else from results.csv."""
    for row in measured:
        if row.section == "orchestration" and row.metric.startswith("cold run core-seconds"):
            return row.value, "this suite run"
    path = REPO / "benchmarks" / "results.csv"
    if path.exists():
        with open(path, newline="") as handle:
            for row in csv.DictReader(handle):
                if row["section"] == "orchestration" and row["metric"].startswith("cold run core-seconds"):
                    return float(row["value"]), "results.csv"
    raise RuntimeError("no cold-run figure: run the orchestration section first (--only orchestration,startup)")


def run(repeats: int = 3, quick: bool = False, measured: list[Row] | None = None) -> list[Row]:
    counts = job_counts()
    cold, source = cold_run_core_seconds(measured or [])
    rows: list[Row] = []
    pca = {rule: marginal_import(rule, "sklearn.decomposition", repeats) for rule in PCA_RULES if counts.get(rule)}
    saved = sum(seconds * counts[rule] for rule, seconds in pca.items())
    rows.append(Row("startup", "numpy PCA instead of scikit-learn's: the import it saves the cold run", saved, "core-s",
                    f"cold run {cold:.0f} core-s ({source})", saved / cold, ">= 3%", saved / cold >= 0.03,
                    note=", ".join(f"{rule} {seconds:.2f} x {counts[rule]}" for rule, seconds in pca.items())))
    rules = [rule for rule in sorted(counts) if (SCRIPTS / f"{rule}.py").exists()]
    if quick:
        rules = rules[:4]
    exits = {rule: teardown(rule, repeats) for rule in rules}
    saved = sum(seconds * counts[rule] for rule, seconds in exits.items())
    rows.append(Row("startup", "fast exit of a finished job: the teardown it saves the cold run", saved, "core-s",
                    f"cold run {cold:.0f} core-s ({source})", saved / cold, ">= 3%", saved / cold >= 0.03,
                    note=", ".join(f"{rule} {seconds:.2f} x {counts[rule]}" for rule, seconds in exits.items())))
    return rows
