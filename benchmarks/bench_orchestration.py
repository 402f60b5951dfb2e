"""Orchestration: the cold default run under Snakemake against the same jobs run in one Python process, and reruns.

In a fresh copy of the workflow: a cold ``snakemake`` (the default profile: all cores, report included); a no-op
rerun; a figure-style edit (a comment appended to ``workflow/latentwalk/plots.py``, which every figure job runs); a
one-method config change (``paths.lerp.steps`` 11 -> 13). Each rerun is a share of the cold run's wall time. The
reference for the cold run is ``benchmarks/replay.py`` in a second fresh copy: every job's script in one process,
serially, imports paid once, with the thread settings Snakemake gives a one-thread job. The two are compared in
core-seconds (user + system CPU of the process and its children), which counts Snakemake's per-job costs
(interpreter and import start-up, scheduling) whatever the parallelism; wall times are shown too. The figure section
reads the cold run's per-job benchmark files.
"""

from __future__ import annotations

import csv
import json
import sys
import tempfile
from pathlib import Path

from common import REPO, Row, copy_repo, snakemake_command, timed_child

#: What each figure job draws, for seconds per figure: rule -> (fixed figures per job, whether to add the PNG and GIF
#: files of the run's walks directory).
FIGURE_RULES = {"plot_run": (2, False), "plot_walks": (2, True), "plot_view_walks": (5, True), "plot_view_dataset": (1, False),
                "plot_hypersphere": (1, False), "plot_norm_concentration": (2, False), "plot_unit_sphere_spiral": (1, False),
                "plot_comparison": (1, False)}


#: What Snakemake sets in a one-thread job's environment (snakemake/shell.py), for the one-process reference.
JOB_THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "GOTO_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                      "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}


def _jobs(child: dict) -> int:
    """Jobs Snakemake ran, from its 'Job stats' table (0 when it had nothing to do)."""
    import re

    match = re.search(r"^total\s+(\d+)", child["stdout"] + child["stderr"], re.M)
    return int(match.group(1)) if match else 0


def _benchmark_files(results: Path, rule: str) -> list[Path]:
    return sorted((results / "benchmarks" / rule).rglob("*.tsv")) + sorted((results / "benchmarks").glob(f"{rule}.tsv"))


def _cpu(tsv: Path) -> float:
    with open(tsv) as handle:
        return float(next(csv.DictReader(handle, delimiter="\t"))["cpu_time"])


def overhead_by_rule(results: Path, replayed: dict[str, list[float]]) -> list[Row]:
    """Per rule with a benchmark file: a job's core-seconds under Snakemake (its own process: interpreter, imports,
    work) against the same job's in the one-process reference (the work alone, imports paid once). The profile of
    the cold run's overhead."""
    rows = []
    for rule, (jobs, ref_cpu) in sorted(replayed.items(), key=lambda item: -item[1][1]):
        files = _benchmark_files(results, rule)
        if not files or len(files) != jobs:
            continue
        cpu = sum(_cpu(tsv) for tsv in files)
        rows.append(Row("overhead", f"{rule}: core-s per job, Snakemake ({jobs} jobs)", cpu / jobs, "core-s",
                        f"one process {ref_cpu / jobs:.2f}", cpu / ref_cpu if ref_cpu else float("nan"),
                        note=f"{cpu - ref_cpu:+.0f} core-s in all"))
    return rows


def figure_costs(results: Path) -> list[Row]:
    """Core-seconds per figure (PNG and SVG, or GIF) by figure family, from the run's benchmark files."""
    rows, total_cpu, total_figures = [], 0.0, 0
    for rule, (per_job, walks_dir) in FIGURE_RULES.items():
        files = _benchmark_files(results, rule)
        cpu, figures = 0.0, 0
        for tsv in files:
            cpu += _cpu(tsv)
            figures += per_job
            if walks_dir:
                run = tsv.relative_to(results / "benchmarks" / rule).with_suffix("")
                walks = results / "figures" / run / "walks"
                figures += len(list(walks.glob("*.png"))) + len(list(walks.glob("*.gif")))
        if figures:
            rows.append(Row("figures", f"{rule}: core-seconds per figure ({figures} figures, {len(files)} jobs)",
                            cpu / figures, "core-s"))
            total_cpu += cpu
            total_figures += figures
    if total_figures:
        mean = total_cpu / total_figures
        rows.append(Row("figures", f"all figure jobs: core-seconds per figure ({total_figures} figures)", mean, "core-s",
                        target="<= 0.3", met=mean <= 0.3))
    return rows


def run(repeats: int = 1, quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="lw-orch-") as tmp:
        work = copy_repo(Path(tmp) / "snakemake")
        extra = ["--config", "latent_dims=[2]", "datasets=[digits]"] if quick else []
        cold = timed_child(snakemake_command("--cores", "2", *extra), work)
        rows.append(Row("orchestration", f"cold default run under Snakemake ({_jobs(cold)} jobs, 2 cores): wall",
                        cold["wall"], "s"))
        figures = figure_costs(work / "results")  # before the reruns rewrite the per-job benchmark files
        reference = copy_repo(Path(tmp) / "replay")
        if quick:
            (reference / "quick.yaml").write_text("latent_dims: [2]\ndatasets: [digits]\n")
        # the threads Snakemake gives each job (threads: 1), so both sides run the same kernels: torch and BLAS on two
        # threads spin-wait, e.g. one geodesic job takes 9.3 core-s on two threads and 5.8 on one, in the same wall time
        single = timed_child([sys.executable, str(REPO / "benchmarks" / "replay.py"), str(reference),
                              *(["quick.yaml"] if quick else [])], reference, env=JOB_THREADS)
        rows.append(Row("orchestration", "the same jobs in one Python process (1 core): wall", single["wall"], "s",
                        note=single["stdout"].strip().splitlines()[-1] if single["stdout"].strip() else ""))
        ratio = cold["cpu"] / single["cpu"]
        rows.append(Row("orchestration", "cold run core-seconds (Snakemake / one process)", cold["cpu"], "core-s",
                        f"one process {single['cpu']:.0f} core-s", ratio, "<= 1.5x", ratio <= 1.5))
        replayed = reference / "replay_rules.json"
        if replayed.exists():
            figures += overhead_by_rule(work / "results", json.loads(replayed.read_text()))
        noop = timed_child(snakemake_command("--cores", "2", *extra), work)
        rows.append(Row("orchestration", "no-op rerun", noop["wall"], "s", "cold run", noop["wall"] / cold["wall"], "<= 3%",
                        noop["wall"] / cold["wall"] <= 0.03))
        plots = work / "workflow" / "latentwalk" / "plots.py"
        plots.write_text(plots.read_text() + "\n# a figure-style edit (benchmark)\n")
        edit = timed_child(snakemake_command("--cores", "2", *extra), work)
        rows.append(Row("orchestration", f"rerun after editing plots.py ({_jobs(edit)} jobs)", edit["wall"], "s",
                        "cold run", edit["wall"] / cold["wall"], "<= 10%", edit["wall"] / cold["wall"] <= 0.10))
        change = timed_child(snakemake_command("--cores", "2", *extra, *(["--config"] if not extra else []),
                                               "paths={lerp: {steps: 13}}"), work)
        rows.append(Row("orchestration", f"rerun after paths.lerp.steps 11 -> 13 ({_jobs(change)} jobs)",
                        change["wall"], "s", "cold run", change["wall"] / cold["wall"], "<= 20%",
                        change["wall"] / cold["wall"] <= 0.20))
    return rows + figures
