"""Orchestration: the cold default run under Snakemake against the same jobs run in one Python process, and reruns.

In a fresh copy of the workflow: a cold ``snakemake`` (the default profile: all cores, report included); a no-op
rerun; a figure-style edit (a comment appended to ``workflow/latentwalk/figures/style.py``, which every figure job
runs); a
one-method config change (``paths.lerp.steps`` 11 -> 13, then back, then again: the same jobs each time). Each rerun
is timed three times (or ``repeats``), and its median is a share of the cold run's wall time; seconds per figure are
the median over the cold run and the edit reruns (each of which redraws every figure). The
reference for the cold run is ``benchmarks/replay.py`` in a second fresh copy: every job's script in one process,
serially, imports paid once, with the thread settings Snakemake gives a one-thread job. The two are compared in
core-seconds (user + system CPU of the process and its children), which counts Snakemake's per-job costs
(interpreter and import start-up, scheduling) whatever the parallelism; wall times are shown too. The figure and
overhead sections read each job's core-seconds from the last line of its log (``latentwalk.core.logs.job_cost``).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

from common import REPO, Row, copy_repo, snakemake_command, timed_child

#: What each figure job draws, for seconds per figure: rule -> (fixed figures per job, the directory under
#: results/figures whose PNG and GIF files count too: a run's walks, or a cross-run job's directory output).
FIGURE_RULES = {"plot_walks": (4, "{run}/walks"), "plot_views": (3, None), "plot_view_dataset": (1, None),
                "plot_geometry": (0, "geometry"), "plot_comparison": (0, "comparison")}

#: The figure jobs of each run (the rest draw the geometry figures, the views dataset and the cross-run comparison).
PER_RUN_FIGURES = ("plot_walks", "plot_views")

#: What Snakemake sets in a one-thread job's environment (snakemake/shell.py), for the one-process reference.
JOB_THREADS = {name: "1" for name in ("OMP_NUM_THREADS", "GOTO_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                      "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")}


def _jobs(child: dict) -> int:
    """Jobs Snakemake ran, from its 'Job stats' table (0 when it had nothing to do)."""
    import re

    match = re.search(r"^total\s+(\d+)", child["stdout"] + child["stderr"], re.M)
    return int(match.group(1)) if match else 0


def job_costs(results: Path, rule: str) -> dict[str, float]:
    """Core-seconds of each job of ``rule`` (key: the job's log path under ``results/logs/{rule}``, no suffix), from
    the last line of its log (``latentwalk.core.logs.job_cost``: the kernel's count for the job's process and children).

    Not Snakemake's ``benchmark:`` files: they sample every few seconds and drop what a longer job spends after the
    last sample (a 40 core-second job is recorded as 15)."""
    from latentwalk.core.logs import COST_PREFIX

    logs = results / "logs"
    out = {}
    for path in sorted((logs / rule).rglob("*.log")) + sorted(logs.glob(f"{rule}.log")):
        lines = path.read_text().splitlines()
        if lines and COST_PREFIX in lines[-1]:
            key = path.relative_to(logs / rule).with_suffix("").as_posix() if path.parent != logs else rule
            out[key] = float(lines[-1].split(COST_PREFIX, 1)[1].split()[0])
    return out


def overhead_by_rule(results: Path, replayed: dict[str, list[float]], cold_cpu: float) -> list[Row]:
    """Per rule: a job's core-seconds under Snakemake (its own process: interpreter, imports, work) against the same
    job's in the one-process reference (the work alone, imports paid once); then what the jobs' logs do not hold
    (Snakemake's own process: the DAG, scheduling, checksums, benchmark sampling). The cold run's overhead, profiled."""
    rows, in_jobs, extra = [], 0.0, []
    for rule, (jobs, ref_cpu) in replayed.items():
        costs = job_costs(results, rule)
        if len(costs) != jobs:
            continue
        cpu = sum(costs.values())
        in_jobs += cpu
        extra.append((cpu - ref_cpu, rule, jobs, cpu, ref_cpu))
    for delta, rule, jobs, cpu, ref_cpu in sorted(extra, reverse=True):
        rows.append(Row("overhead", f"{rule}: core-s per job, Snakemake ({jobs} jobs)", cpu / jobs, "core-s",
                        f"one process {ref_cpu / jobs:.2f}", cpu / ref_cpu if ref_cpu else float("nan"),
                        note=f"{delta:+.0f} core-s in all"))
    rows.append(Row("overhead", "outside the jobs: Snakemake's own process", cold_cpu - in_jobs, "core-s",
                    note="the cold run's core-seconds less those its jobs' logs count"))
    return rows


def figure_costs(results: Path) -> list[Row]:
    """Core-seconds per figure (PNG and SVG, or GIF) by figure family, from the jobs' logs."""
    rows, total_cpu, total_figures, run_cpu, run_figures = [], 0.0, 0, 0.0, 0
    for rule, (per_job, directory) in FIGURE_RULES.items():
        costs = job_costs(results, rule)
        cpu, figures = sum(costs.values()), 0
        for run in costs:
            figures += per_job
            if directory:
                drawn = results / "figures" / directory.format(run=run)
                figures += len(list(drawn.glob("*.png"))) + len(list(drawn.glob("*.gif")))
        if figures:
            rows.append(Row("figures", f"{rule}: core-seconds per figure ({figures} figures, {len(costs)} jobs)",
                            cpu / figures, "core-s"))
            total_cpu += cpu
            total_figures += figures
        if rule in PER_RUN_FIGURES:
            run_cpu += cpu
            run_figures += figures
    if run_figures:
        rows.append(Row("figures", f"per-run figure jobs: core-seconds per figure ({run_figures} figures)",
                        run_cpu / run_figures, "core-s", note=", ".join(PER_RUN_FIGURES)))
    if total_figures:
        mean = total_cpu / total_figures
        rows.append(Row("figures", f"all figure jobs: core-seconds per figure ({total_figures} figures)", mean, "core-s",
                        note="the cold run; the target is on the median row (cold run and edit reruns)"))
    return rows


def _rerun_row(what: str, walls: list[float], cold_wall: float, target: float) -> Row:
    """A rerun's median wall time (of ``walls``) as a share of the cold run's, all the times in the note."""
    wall = statistics.median(walls)
    return Row("orchestration", f"{what}: median of {len(walls)}", wall, "s", "cold run", wall / cold_wall,
               f"<= {target:.0%}", wall / cold_wall <= target, note="each: " + ", ".join(f"{w:.1f} s" for w in walls))


def _mean_per_figure(rows: list[Row]) -> float:
    """The all-figure-jobs mean of :func:`figure_costs`' rows (NaN when it found no figure job)."""
    return next((r.value for r in rows if r.metric.startswith("all figure jobs")), float("nan"))


def run(repeats: int = 1, quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="lw-orch-") as tmp:
        work = copy_repo(Path(tmp) / "snakemake")
        extra = ["--config", "latent_dims=[2]", "datasets=[digits]"] if quick else []
        cold = timed_child(snakemake_command("--cores", "2", *extra), work)
        rows.append(Row("orchestration", f"cold default run under Snakemake ({_jobs(cold)} jobs, 2 cores): wall",
                        cold["wall"], "s"))
        figures = figure_costs(work / "results")  # before the reruns rewrite the jobs' logs
        reference = copy_repo(Path(tmp) / "replay")
        if quick:
            (reference / "quick.yaml").write_text("latent_dims: [2]\ndatasets: [digits]\n")
        # the threads Snakemake gives each job (threads: 1), so both sides run the same kernels (torch and BLAS on two
        # threads spin-wait)
        single = timed_child([sys.executable, str(REPO / "benchmarks" / "replay.py"), str(reference),
                              *(["quick.yaml"] if quick else [])], reference, env=JOB_THREADS)
        rows.append(Row("orchestration", "the same jobs in one Python process (1 core): wall", single["wall"], "s",
                        note=single["stdout"].strip().splitlines()[-1] if single["stdout"].strip() else ""))
        ratio = cold["cpu"] / single["cpu"]
        rows.append(Row("orchestration", "cold run core-seconds (Snakemake / one process)", cold["cpu"], "core-s",
                        f"one process {single['cpu']:.0f} core-s", ratio, "<= 1.5x", ratio <= 1.5))
        replayed = reference / "replay_rules.json"
        if replayed.exists():
            figures += overhead_by_rule(work / "results", json.loads(replayed.read_text()), cold["cpu"])
        os.sync()  # the reference's last writes reach the disk before the reruns are timed
        # Each rerun is timed `repeats` times (at least 3) and its median is the figure: single reruns vary.
        times = max(3, repeats)
        noops = [timed_child(snakemake_command("--cores", "2", *extra), work)["wall"] for _ in range(times)]
        rows.append(_rerun_row("no-op rerun", noops, cold["wall"], 0.03))
        plots = work / "workflow" / "latentwalk" / "figures" / "style.py"
        edits, jobs, per_figure = [], 0, [_mean_per_figure(figures)]
        for k in range(times):  # a different comment each time: every figure job reruns each time
            plots.write_text(plots.read_text() + f"\n# a figure-style edit (benchmark, {k + 1})\n")
            edit = timed_child(snakemake_command("--cores", "2", *extra), work)
            edits.append(edit["wall"])
            jobs = _jobs(edit)
            per_figure.append(_mean_per_figure(figure_costs(work / "results")))
        rows.append(_rerun_row(f"rerun after editing figures/style.py ({jobs} jobs)", edits, cold["wall"], 0.10))
        changes = []
        for steps in [13, 11, 13, 11, 13][:times]:  # back and forth: each change reruns the same jobs
            change = timed_child(snakemake_command("--cores", "2", *extra, *(["--config"] if not extra else []),
                                                   f"paths={{lerp: {{steps: {steps}}}}}"), work)
            changes.append(change["wall"])
            jobs = _jobs(change)
        rows.append(_rerun_row(f"rerun after paths.lerp.steps 11 <-> 13 ({jobs} jobs)", changes, cold["wall"], 0.20))
        mean = statistics.median(per_figure)
        figures.append(Row("figures", f"all figure jobs, median of the cold run and the {times} edit reruns: core-seconds "
                           "per figure", mean, "core-s", target="<= 0.3", met=mean <= 0.3,
                           note="each: " + ", ".join(f"{v:.3f}" for v in per_figure)))
    return rows + figures
