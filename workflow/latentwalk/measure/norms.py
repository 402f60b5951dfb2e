"""Geometry of high-dimensional Gaussians: norm concentration, hypersphere volumes, path norms.

Everything here is numpy, scipy and pandas; no torch. Sampling is streamed in
chunks so that memory stays bounded by ``chunk_elements`` floats for the
samples (plus one float per sample for the norms), whatever N x d is.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.special import gammaln

from latentwalk.core.io import LatentwalkError, PathLike, write_csv
from latentwalk.core.logs import Log, quiet
from latentwalk.core.registry import PRIOR_WALK

__all__ = [
    "QUANTILES",
    "SHELL",
    "chi_mean",
    "sample_norms",
    "concentration_table",
    "norm_concentration",
    "hypersphere",
    "norm_histograms",
    "hypersphere_table",
    "shell_bounds",
    "walk_names",
    "path_norm_table",
    "path_norm_summary",
    "encoded_norm_summary",
    "ACTIVE_THRESHOLD",
    "active_dims",
    "chi_pdf",
]

#: The typical shell of chi(d): the central 99% of the norm's distribution.
SHELL = (0.005, 0.995)
#: Quantiles of |z| reported for samples and for the exact chi(d) law.
QUANTILES = (0.005, 0.025, 0.25, 0.5, 0.75, 0.975, 0.995)
#: A latent dim is active when its encoder mean varies over the data by more than this (Burda et al. 2016, IWAE:
#: Var_x E[z_j | x] > 0.01; an unused VAE dim copies the prior and has a mean near 0 for every x).
ACTIVE_THRESHOLD = 0.01


def chi_mean(d: int | np.ndarray) -> np.ndarray:
    """Exact E|z| for z ~ N(0, I_d): sqrt(2) Gamma((d+1)/2) / Gamma(d/2), to ~1e-15 relative for any d.

    Small d use the gamma ratio directly; beyond d = 300 (where Gamma overflows soon and a log-gamma difference, as
    scipy's chi(d) mean computes it, loses digits: 2e-12 at d = 2000) the asymptotic series of Gamma(x + 1/2) /
    Gamma(x) in x = d/2 is exact to double precision.
    """
    d = np.asarray(d, dtype=np.float64)
    small = d <= 300
    x = np.where(small, 150.0, d / 2.0)
    series = 1 - 1 / (8 * x) + 1 / (128 * x**2) + 5 / (1024 * x**3) - 21 / (32768 * x**4) - 399 / (262144 * x**5) + 869 / (
        4194304 * x**6
    )
    ds = np.where(small, d, 1.0)
    gamma = np.frompyfunc(math.gamma, 1, 1)
    direct = np.sqrt(2.0) * np.asarray(gamma((ds + 1.0) / 2.0) / gamma(ds / 2.0), dtype=np.float64)
    return np.where(small, direct, np.sqrt(d) * series)


def chi_pdf(x: float | np.ndarray, d: int) -> np.ndarray:
    """The chi(d) density at ``x``."""
    return np.asarray(stats.chi.pdf(x, d), dtype=np.float64)


def shell_bounds(d: int, shell: tuple[float, float] = SHELL) -> tuple[float, float]:
    """The chi(d) typical shell: the norms at the given lower and upper quantiles."""
    lo, hi = stats.chi.ppf(np.asarray(shell), d)
    return float(lo), float(hi)


def sample_norms(d: int, n: int, seed: int, chunk_elements: int = 1 << 22) -> np.ndarray:
    """|z| of ``n`` samples z ~ N(0, I_d), drawn in chunks of at most ``chunk_elements`` floats.

    The generator is seeded by ``(seed, d)``; the chunk size changes memory
    use only, never the values (numpy's Generator draws the same stream
    whether asked for one block or many).
    """
    if d < 1 or n < 1:
        raise LatentwalkError(f"norm samples need d >= 1 and N >= 1, got d={d}, N={n}")
    rng = np.random.default_rng([seed, d])
    rows = max(1, chunk_elements // d)
    norms = np.empty(n, dtype=np.float64)
    for first in range(0, n, rows):
        block = rng.standard_normal((min(rows, n - first), d))
        norms[first : first + len(block)] = np.sqrt(np.einsum("ij,ij->i", block, block))
    return norms


def concentration_table(dims: Sequence[int], n: int, seed: int, chunk_elements: int = 1 << 22) -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    """Sample-vs-exact statistics of |z| for each dim, and the sampled norms per dim.

    Columns: dim, n, sample mean/std, exact chi mean/std, relative errors, the
    sample and exact quantiles, the KS distance to chi(d) (and its p-value),
    the share of samples inside the unit ball next to P(chi2_d <= 1), and the
    relative shell width std/mean (sample and exact).
    """

    rows = []
    samples: dict[int, np.ndarray] = {}
    for d in dims:
        norms = sample_norms(int(d), n, seed, chunk_elements)
        samples[int(d)] = norms
        law = stats.chi(int(d))
        exact_mean = float(chi_mean(int(d)))
        exact_std = float(law.std())
        ks = stats.kstest(norms, law.cdf)
        row: dict[str, Any] = {
            "dim": int(d),
            "n": int(n),
            "mean": float(norms.mean()),
            "std": float(norms.std(ddof=1)) if n > 1 else 0.0,
            "chi_mean": exact_mean,
            "chi_std": exact_std,
            "sqrt_d": float(np.sqrt(d)),
            "mean_rel_error": float(norms.mean() / exact_mean - 1.0),
        }
        row["std_rel_error"] = row["std"] / exact_std - 1.0 if exact_std > 0 else np.nan
        sample_q = np.quantile(norms, QUANTILES)
        exact_q = law.ppf(QUANTILES)
        for q, sq, eq in zip(QUANTILES, sample_q, exact_q):
            row[f"q{q * 100:g}"] = float(sq)
            row[f"chi_q{q * 100:g}"] = float(eq)
        row.update(
            ks_distance=float(ks.statistic),
            ks_pvalue=float(ks.pvalue),
            inside_unit_ball=float(np.mean(norms <= 1.0)),
            chi2_cdf_at_1=float(stats.chi2.cdf(1.0, d)),
            relative_width=row["std"] / row["mean"],
            chi_relative_width=exact_std / exact_mean,
        )
        rows.append(row)
    return pd.DataFrame(rows), samples


def norm_histograms(samples: dict[int, np.ndarray], bins: int = 60) -> pd.DataFrame:
    """Long-form histogram of |z| per dim with the exact chi(d) density at each bin centre.

    Bins span the chi(d) 0.01%..99.99% range widened to include every sample;
    ``density`` integrates to 1 over the bins.
    """

    frames = []
    for d, norms in samples.items():
        law = stats.chi(d)
        lo = min(float(norms.min()), float(law.ppf(1e-4)))
        hi = max(float(norms.max()), float(law.ppf(1 - 1e-4)))
        counts, edges = np.histogram(norms, bins=bins, range=(lo, hi))
        widths = np.diff(edges)
        centres = (edges[:-1] + edges[1:]) / 2
        frames.append(
            pd.DataFrame(
                {
                    "dim": d,
                    "bin_left": edges[:-1],
                    "bin_right": edges[1:],
                    "count": counts,
                    "density": counts / (counts.sum() * widths),
                    "chi_pdf": law.pdf(centres),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def hypersphere_table(n_max: int) -> pd.DataFrame:
    """Unit n-ball volume, unit (n-1)-sphere surface, ball-to-cube ratio and Gaussian masses, n = 1..n_max.

    V_n = pi^(n/2) / Gamma(n/2 + 1), S_{n-1} = 2 pi^(n/2) / Gamma(n/2) (the
    surface bounding the unit n-ball), both computed in log space with gammaln.
    The cube is [-1, 1]^n (volume 2^n). Gaussian masses: P(|z| <= 1) and
    P(|z| <= sqrt(n)) for z ~ N(0, I_n).
    """

    if n_max < 1:
        raise LatentwalkError(f"hypersphere table needs n_max >= 1, got {n_max}")
    n = np.arange(1, n_max + 1, dtype=np.float64)
    log_volume = (n / 2.0) * np.log(np.pi) - gammaln(n / 2.0 + 1.0)
    log_surface = np.log(2.0) + (n / 2.0) * np.log(np.pi) - gammaln(n / 2.0)
    return pd.DataFrame(
        {
            "n": n.astype(np.int64),
            "volume": np.exp(log_volume),
            "log_volume": log_volume,
            "surface": np.exp(log_surface),
            "log_surface": log_surface,
            "ball_to_cube": np.exp(log_volume - n * np.log(2.0)),
            "gauss_mass_r1": stats.chi2.cdf(1.0, n),
            "gauss_mass_sqrt_n": stats.chi2.cdf(n, n),
        }
    )


def walk_names(paths: pd.DataFrame) -> pd.Series:
    """The interpolation each row belongs to: the variant for prior pairs, else the method."""
    walk = paths["method"].astype(str)
    if "variant" in paths.columns:
        walk = paths["variant"].where(paths["variant"].notna() & (paths["method"] == PRIOR_WALK), walk)
    return walk.astype(str)


def path_norm_table(paths: pd.DataFrame, d: int, shell: tuple[float, float] = SHELL) -> pd.DataFrame:
    """|z| at every step of every path, with the chi(d) shell and whether the point is inside it.

    ``paths`` is a concatenation of path tables (column ``method``; ``variant``
    where a method has several). The ``walk`` column names the interpolation:
    the variant for prior pairs, else the method.
    """
    lo, hi = shell_bounds(d, shell)
    keep = [c for c in ("method", "variant", "path_id", "pair", "step", "t", "delta", "alpha") if c in paths.columns]
    out = paths[keep + ["norm"]].copy()
    out.insert(1, "walk", walk_names(out))
    out["shell_lo"] = lo
    out["shell_hi"] = hi
    out["inside_shell"] = (out["norm"] >= lo) & (out["norm"] <= hi)
    out["norm_over_sqrt_d"] = out["norm"] / np.sqrt(d)
    return out.reset_index(drop=True)


def path_norm_summary(norms: pd.DataFrame) -> pd.DataFrame:
    """Per (method, walk): share of steps outside the shell and the midpoint-to-endpoint norm ratio.

    The midpoint is the middle step (steps odd) or the mean of the two middle
    steps; the endpoint norm is the mean of the first and last step's norms.
    """
    rows = []
    for (method, walk), group in norms.groupby(["method", "walk"], sort=False):
        ratios = []
        for _, path in group.groupby("path_id", sort=False):
            norm = path.sort_values("step")["norm"].to_numpy()
            s = len(norm)
            mid = norm[s // 2] if s % 2 else 0.5 * (norm[s // 2 - 1] + norm[s // 2])
            ends = 0.5 * (norm[0] + norm[-1])
            ratios.append(mid / ends if ends > 0 else np.nan)
        rows.append(
            {
                "method": method,
                "walk": walk,
                "paths": int(group["path_id"].nunique()),
                "points": int(len(group)),
                "share_outside_shell": float(1.0 - group["inside_shell"].mean()),
                "share_below_shell": float((group["norm"] < group["shell_lo"]).mean()),
                "share_above_shell": float((group["norm"] > group["shell_hi"]).mean()),
                "mean_norm": float(group["norm"].mean()),
                "min_norm": float(group["norm"].min()),
                "max_norm": float(group["norm"].max()),
                "midpoint_ratio": float(np.nanmean(ratios)) if ratios else np.nan,
                "shell_lo": float(group["shell_lo"].iloc[0]),
                "shell_hi": float(group["shell_hi"].iloc[0]),
            }
        )
    return pd.DataFrame(rows)


def active_dims(mu: np.ndarray, threshold: float = ACTIVE_THRESHOLD) -> int:
    """How many latent dims are active: the variance of the encoder mean over the rows of ``mu`` ``(N, d)`` exceeds
    ``threshold`` (see :data:`ACTIVE_THRESHOLD`). Fewer than two rows: no variance, 0 active dims."""
    mu = np.asarray(mu, dtype=np.float64)
    if mu.ndim != 2:
        raise LatentwalkError(f"active_dims needs an (N, d) matrix of encoder means, got shape {mu.shape}")
    if mu.shape[0] < 2:
        return 0
    return int(np.count_nonzero(mu.var(axis=0) > threshold))


def encoded_norm_summary(
    norms: np.ndarray, split: np.ndarray, d: int, shell: tuple[float, float] = SHELL, mu: np.ndarray | None = None
) -> pd.DataFrame:
    """|mu| of the encoded data per split against the prior's chi(d) shell and quantiles; with the encoder means
    ``mu`` ``(N, d)``, also the number of active latent dims per split (:func:`active_dims`)."""
    lo, hi = shell_bounds(d, shell)
    rows = []
    for name in ("train", "test", "all"):
        chosen = slice(None) if name == "all" else split == name
        sel = norms[chosen]
        if sel.size == 0:
            continue
        row: dict[str, Any] = {
            "split": name,
            "n": int(sel.size),
            "mean": float(sel.mean()),
            "std": float(sel.std()),
            "chi_mean": float(chi_mean(d)),
            "shell_lo": lo,
            "shell_hi": hi,
            "share_inside_shell": float(np.mean((sel >= lo) & (sel <= hi))),
            "share_below_shell": float(np.mean(sel < lo)),
            "share_above_shell": float(np.mean(sel > hi)),
            "ks_distance_to_chi": float(stats.kstest(sel, stats.chi(d).cdf).statistic),
        }
        for q, v in zip(QUANTILES, np.quantile(sel, QUANTILES)):
            row[f"q{q * 100:g}"] = float(v)
        if mu is not None:
            row["active_dims"] = active_dims(mu[chosen])
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- rules norm_concentration and hypersphere


def norm_concentration(
    dims: Sequence[int], n: int, seed: int, chunk_elements: int, bins: int, out_csv: PathLike, out_hist: PathLike, log: Log = quiet
) -> None:
    """Sample N(0, I_d) for each dim (streamed), compare |z| with chi(d); write the table and histograms."""
    start = time.perf_counter()
    table, samples = concentration_table(dims, n, seed, chunk_elements)
    write_csv(table, out_csv)
    write_csv(norm_histograms(samples, bins), out_hist)
    for row in table.itertuples():
        log(f"d={row.dim:5d}  mean |z| {row.mean:.6f} vs chi {row.chi_mean:.6f} ({row.mean_rel_error:+.2e})  "
            f"width {row.relative_width:.4f}  KS {row.ks_distance:.5f}")
    log(f"{len(dims)} dims x {n} samples in {time.perf_counter() - start:.1f}s")


def hypersphere(n_max: int, out_csv: PathLike, log: Log = quiet) -> None:
    """Unit-ball volumes, sphere surfaces, ball-to-cube ratios and Gaussian masses for n = 1..n_max."""
    table = hypersphere_table(n_max)
    write_csv(table, out_csv)
    top = table.loc[table["volume"].idxmax()]
    log(f"largest unit-ball volume V_{int(top['n'])} = {top['volume']:.6f}")
