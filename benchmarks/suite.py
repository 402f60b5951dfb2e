"""latentwalk's benchmark suite: every figure a ratio against a reference measured in the same run.

    python benchmarks/suite.py [--only training,norms,dag,orchestration,startup,gpu] [--repeats 3] [--quick] [--csv FILE]

Sections (see each module's docstring):
  training       the trainer against a pytorch/examples-style loop (MLP and conv), FLOP rate against matmul
  norms          norm statistics at N = 10^6, d = 1000 against numpy's raw generation; peak memory
  dag            `snakemake -n` over a sweep of more than 2,000 jobs
  orchestration  cold default run against one process; no-op, figure-edit and one-method reruns; seconds per figure
  startup        what the jobs' start-up and teardown tricks (numpy PCA, fast exit) save the cold default run
  gpu            on a CUDA device: the trainer against the same loop, MLP and conv, batch 128 and 1024 (else a note)

Prints a table and writes it as CSV (default benchmarks/results.csv); the rows of sections not run stay in the file,
with the machine they came from. Run it on a quiet machine: nothing else running, medians of several repeats. `--quick` shrinks every section for a smoke test (not for the README table).
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "workflow"))

from common import REPO, Row  # noqa: E402

SECTIONS = ("training", "norms", "dag", "sources", "orchestration", "startup", "gpu")


def machine() -> str:
    """The machine in one line: CPU model, cores, memory, Python, torch."""
    import torch

    model = "unknown CPU"
    if Path("/proc/cpuinfo").exists():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    if Path("/proc/meminfo").exists():
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    return f"{model}, {os.cpu_count()} cores{memory}, Python {platform.python_version()}, torch {torch.__version__}"


def slurm_warning() -> str | None:
    """Snakemake's SLURM plugin asks `scontrol` for the cluster at every start, and waits when no controller answers."""
    if shutil.which("scontrol") is None:
        return None
    ping = subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30)
    if ping.returncode == 0 and "UP" in ping.stdout:
        return None
    return "the SLURM client is installed but no controller answers: every Snakemake start waits for it (start one)"


def table(rows: list[Row]) -> str:
    lines = [f"{'section':13} {'metric':78} {'value':>12} {'unit':10} {'ratio':>8} {'target':>10} met"]
    for r in rows:
        ratio = "" if r.ratio is None else f"{r.ratio:.3g}"
        met = "" if r.met is None else ("yes" if r.met else "NO")
        lines.append(f"{r.section:13} {r.metric[:78]:78} {r.value:12.4g} {r.unit:10} {ratio:>8} {r.target:>10} {met}")
    return "\n".join(lines)


def write_rows(path: Path, rows: list[Row]) -> None:
    """Write ``rows`` to the CSV at ``path``, keeping its rows of the sections not measured (with their machine)."""
    fields = list(Row.__dataclass_fields__) + ["machine"]
    kept = []
    measured = {row.section for row in rows}
    if path.exists():
        with open(path, newline="") as handle:
            kept = [r for r in csv.DictReader(handle) if r["section"] not in measured]
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows({k: r.get(k, "") for k in fields} for r in kept)
        for row in rows:
            writer.writerow({**row.as_dict(), "machine": machine()})
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--csv", default=str(REPO / "benchmarks" / "results.csv"))
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    warning = slurm_warning()
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"machine: {machine()}")
    rows: list[Row] = []
    for name in chosen:
        start = time.perf_counter()
        module = __import__(f"bench_{name}")
        kwargs = {"measured": rows} if name == "startup" else {}
        section_rows = module.run(repeats=args.repeats, quick=args.quick, **kwargs)
        rows += section_rows
        print(table(section_rows))
        print(f"({name}: {time.perf_counter() - start:.0f} s)\n", flush=True)
        write_rows(Path(args.csv), rows)  # after each section: a later section's failure keeps what was measured
    print(table(rows))
    print(f"wrote {args.csv}")


if __name__ == "__main__":
    main()
