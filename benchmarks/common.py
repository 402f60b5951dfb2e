"""Shared pieces of the benchmark suite: result rows, medians of repeats, timing a child process, the repository."""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
MNIST = REPO.parent / "shared" / "data" / "mnist"


@dataclass
class Row:
    """One figure of the suite: ``value`` in ``unit``; ``ratio`` against the reference measured in the same run."""

    section: str
    metric: str
    value: float
    unit: str
    reference: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def median_of(repeats: int, measure: Callable[[], float]) -> tuple[float, list[float]]:
    """The median of ``repeats`` calls of ``measure`` (each returns seconds or a rate), and all the values."""
    values = [measure() for _ in range(repeats)]
    return statistics.median(values), values


def timed_child(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None, check: bool = True) -> dict[str, float]:
    """Run ``command``; return its wall seconds and the CPU seconds (user + system) of it and all its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(list(command), cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {cwd}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "stdout": proc.stdout, "stderr": proc.stderr}


def copy_repo(dest: Path) -> Path:
    """A copy of the workflow files of this checkout (tracked files only: no results, no venv) in ``dest``."""
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in filter(None, files.split("\0")):
        source = REPO / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        elif source.is_file():
            shutil.copy2(source, target)
    return dest


def snakemake_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "snakemake", *args]
