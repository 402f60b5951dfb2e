"""Norm statistics at scale: |z| of N = 10^6 samples of N(0, I_1000), against numpy's raw normal generation of the
same 10^9 numbers (same generator, same chunks), and the job's peak memory (measured in a child process: its own
high-water mark, ``latentwalk.core.logs.peak_rss_mib``; the parent's ``RUSAGE_CHILDREN`` would count this process's
memory at the spawn, which Linux carries over ``exec``)."""

from __future__ import annotations

import sys
import time

from common import REPO, Row, median_of, timed_child

CHILD = """
import sys, time
sys.path.insert(0, {workflow!r})
import numpy as np
from latentwalk.core.logs import peak_rss_mib
from latentwalk.measure.norms import concentration_table
start = time.perf_counter()
concentration_table([{d}], {n}, 0, {chunk})
print(time.perf_counter() - start, peak_rss_mib())
"""


def raw_generation(d: int, n: int, chunk: int) -> float:
    """Seconds numpy takes to draw n x d standard normals in the chunks the statistic uses (and nothing else)."""
    import numpy as np

    rng = np.random.default_rng([0, d])
    rows = max(1, chunk // d)
    start = time.perf_counter()
    for first in range(0, n, rows):
        rng.standard_normal((min(rows, n - first), d))
    return time.perf_counter() - start


def run(repeats: int = 3, quick: bool = False) -> list[Row]:
    d, n, chunk = 1000, 100_000 if quick else 1_000_000, 1 << 22
    script = CHILD.format(workflow=str(REPO / "workflow"), d=d, n=n, chunk=chunk)
    children = [timed_child([sys.executable, "-c", script], REPO) for _ in range(repeats)]
    seconds, peaks = zip(*(map(float, c["stdout"].split()) for c in children))  # each child: its time, its peak
    stat_s = sorted(seconds)[len(seconds) // 2]
    peak = max(peaks)
    raw_s, _ = median_of(repeats, lambda: raw_generation(d, n, chunk))
    label = f"norm_concentration d={d}, N={n:.0e}"
    return [
        Row("norms", f"{label}: seconds", stat_s, "s", "numpy raw normal generation", raw_s / stat_s, ">= 50%",
            raw_s / stat_s >= 0.5, note=f"raw generation {raw_s:.2f} s"),
        Row("norms", f"{label}: peak RSS", peak, "MiB", target="<= 512 MiB", met=peak <= 512),
    ]
