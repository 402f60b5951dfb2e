"""Stages of Gaussian geometry (no model needed): norm concentration and unit-ball volumes."""

from __future__ import annotations

import time
from collections.abc import Sequence

from ..io import PathLike, write_csv
from ..logs import Log, quiet


def norm_concentration(
    dims: Sequence[int], n: int, seed: int, chunk_elements: int, bins: int, out_csv: PathLike, out_hist: PathLike, log: Log = quiet
) -> None:
    """Sample N(0, I_d) for each dim (streamed), compare |z| with chi(d); write the table and histograms."""
    from ..stats import norm_concentration as compute
    from ..stats import norm_histograms

    start = time.perf_counter()
    table, samples = compute(dims, n, seed, chunk_elements)
    write_csv(table, out_csv)
    write_csv(norm_histograms(samples, bins), out_hist)
    for row in table.itertuples():
        log(f"d={row.dim:5d}  mean |z| {row.mean:.6f} vs chi {row.chi_mean:.6f} ({row.mean_rel_error:+.2e})  "
            f"width {row.relative_width:.4f}  KS {row.ks_distance:.5f}")
    log(f"{len(dims)} dims x {n} samples in {time.perf_counter() - start:.1f}s")


def hypersphere(n_max: int, out_csv: PathLike, log: Log = quiet) -> None:
    """Unit-ball volumes, sphere surfaces, ball-to-cube ratios and Gaussian masses for n = 1..n_max."""
    from ..stats import hypersphere_table

    table = hypersphere_table(n_max)
    write_csv(table, out_csv)
    top = table.loc[table["volume"].idxmax()]
    log(f"largest unit-ball volume V_{int(top['n'])} = {top['volume']:.6f}")
