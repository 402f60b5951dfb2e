"""Figures of high-dimensional geometry: unit-ball volumes and Gaussian norm concentration (rule plot_geometry,
which also draws the unit-sphere spirals of :mod:`latentwalk.figures.sphere`).

Every function is pure: it takes tables (or arrays) already loaded by the
caller, builds one matplotlib Figure with the shared style of
:mod:`latentwalk.figures.style` and returns it; the caller writes it with
:func:`latentwalk.figures.style.save_figure`. matplotlib is only reached through
:func:`latentwalk.figures.style.new_figure` (Agg canvas, project rcParams), so importing
this module stays cheap.

Quantities that can be astronomically small (unit-ball volumes for n in the
thousands, P(chi2_d <= 1) for large d) are drawn from their logarithms so they
never underflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, NullFormatter
from scipy.special import gammaln

from latentwalk.core.io import LatentwalkError, PathLike, read_csv
from latentwalk.core.logs import Log, quiet
from latentwalk.figures.sphere import plot_unit_sphere_spiral
from latentwalk.figures.style import SERIES, bottom_legend, finish, new_subplots, save_figure
from latentwalk.measure.norms import chi_mean

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure

__all__ = [
    "hypersphere_figure",
    "norm_histogram_figure",
    "shell_width_figure",
    "plot_geometry",
]

_LN10 = float(np.log(10.0))


# --------------------------------------------------------------------------- helpers


def _power_of_ten_axis(axis: Any, max_exponent: float = np.inf) -> None:
    """Label an axis that carries log10 values as 10^k at integer k (no labels above ``max_exponent``)."""

    axis.set_major_locator(MaxNLocator(nbins=7, integer=True, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: "" if v > max_exponent else f"$10^{{{round(v)}}}$"))


def _plain_log_ticks(axis: Any, lo: float, hi: float) -> None:
    """Plain-number labels (0.05, 2, 100) on a log axis: 1-2-5 ticks over short ranges, decades over long ones."""

    subs = (1.0,) if hi / lo > 300 else (1.0, 2.0, 5.0)
    axis.set_major_locator(LogLocator(base=10.0, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    axis.set_minor_formatter(NullFormatter())


def _log10_chi2_cdf_at_1(d: np.ndarray) -> np.ndarray:
    """log10 P(chi2_d <= 1) for real d > 0, finite however large d is.

    P(a, x) = x^a e^-x / Gamma(a + 1) * sum_k x^k / ((a+1)...(a+k)) with a = d/2,
    x = 1/2; each term is at most a third of the previous one, so 80 terms are exact
    to double precision.
    """
    a = np.asarray(d, dtype=np.float64) / 2.0
    x = 0.5
    k = np.arange(1, 81, dtype=np.float64)[:, None]
    series = 1.0 + np.cumprod(x / (a[None, :] + k), axis=0).sum(axis=0)
    return (a * np.log(x) - x - gammaln(a + 1.0) + np.log(series)) / _LN10


# --------------------------------------------------------------------------- 1. hypersphere


def hypersphere_figure(table: pd.DataFrame) -> Figure:
    """Unit-ball volume V_n and unit-sphere surface S_{n-1} against n, and the ball's share of the cube.

    Three panels from ``hypersphere.csv`` (:func:`latentwalk.measure.norms.hypersphere_table`):

    1. V_n and S_{n-1} on a linear scale for n <= 25, their maxima marked and
       annotated (V_5 ≈ 5.264; S_{n-1} peaks at n = 7, S_6 ≈ 33.07). The two
       annotations carry the gids ``max_volume`` and ``max_surface``.
    2. The same on a logarithmic scale for every n, drawn from ``log_volume`` and
       ``log_surface`` (so n in the thousands does not underflow).
    3. The ball-to-cube volume ratio V_n / 2^n (log scale, from ``log_volume``) and,
       on a twin linear axis, the Gaussian masses P(|z| <= 1) and P(|z| <= sqrt(n)).
    """
    t = table.sort_values("n", kind="stable")
    n = np.asarray(t["n"], dtype=np.float64)
    log_v = np.asarray(t["log_volume"], dtype=np.float64)
    log_s = np.asarray(t["log_surface"], dtype=np.float64)
    fig, axes = new_subplots(1, 3, figsize=(15, 4.3), layout="constrained")
    cv, cs = SERIES[0], SERIES[1]

    # panel 1: linear scale, small n
    ax = axes[0]
    n_lin = min(int(n.max()), 25)
    lin = n <= n_lin
    vol, surf = np.exp(log_v[lin]), np.exp(log_s[lin])
    ax.plot(n[lin], vol, marker="o", markersize=3, color=cv, label="volume $V_n$ of the unit $n$-ball")
    ax.plot(n[lin], surf, marker="s", markersize=3, color=cs, label="surface $S_{n-1}$ of the unit sphere")
    iv, js = int(np.argmax(log_v)), int(np.argmax(log_s))
    for idx, log_vals, colour, gid, text, offset in (
        (iv, log_v, cv, "max_volume", f"max $V_{{{int(n[iv])}}}$ ≈ {np.exp(log_v[iv]):.3f}\n(n = {int(n[iv])})", (28, 26)),
        (js, log_s, cs, "max_surface", f"max $S_{{{int(n[js]) - 1}}}$ ≈ {np.exp(log_s[js]):.2f} (n = {int(n[js])})", (22, 12)),
    ):
        if n[idx] <= n_lin:
            y = float(np.exp(log_vals[idx]))
            ax.plot([n[idx]], [y], marker="o", markersize=9, markerfacecolor="none", markeredgecolor=colour, markeredgewidth=1.5)
            ann = ax.annotate(
                text, xy=(float(n[idx]), y), xytext=offset, textcoords="offset points", fontsize=9, color=colour,
                va="bottom", arrowprops={"arrowstyle": "->", "color": colour, "lw": 1},
            )
            ann.set_gid(gid)
    ax.set_xlabel("dimension $n$")
    ax.set_ylabel("volume / surface (unit radius)")
    ax.set_title(f"Unit ball and sphere, linear scale (n ≤ {n_lin})")
    ax.set_ylim(bottom=0.0, top=float(max(surf.max(), vol.max())) * 1.25)
    ax.legend(loc="center right", fontsize=8)
    log_x = n.max() > 200  # thousands of dims: a log n axis keeps small n readable

    # panel 2: log scale, all n (log10 values, 10^k tick labels)
    ax = axes[1]
    ax.plot(n, log_v / _LN10, color=cv, label="$V_n$")
    ax.plot(n, log_s / _LN10, color=cs, label="$S_{n-1}$")
    ax.axhline(0.0, color="black", linewidth=0.8, linestyle=":")
    _power_of_ten_axis(ax.yaxis)
    ax.set_xlabel("dimension $n$")
    ax.set_ylabel("volume / surface (log scale)")
    ax.set_title(f"Both go to 0 faster than exponentially (n ≤ {int(n.max())})")
    if log_x:
        ax.set_xscale("log")
    ax.legend(loc="lower left", fontsize=8)

    # panel 3: ball-to-cube ratio (log) and Gaussian masses (twin, linear)
    ax = axes[2]
    log_ratio = (log_v - n * np.log(2.0)) / _LN10
    h1 = ax.plot(n, log_ratio, color=SERIES[2], label="$V_n / 2^n$ (ball / cube $[-1,1]^n$)")
    _power_of_ten_axis(ax.yaxis, max_exponent=0.0)
    ax.set_xlabel("dimension $n$")
    ax.set_ylabel("ball-to-cube volume ratio (log scale)", color=SERIES[2])
    ax2 = ax.twinx()
    ax2.spines["right"].set_visible(True)
    ax2.grid(False)
    h2 = ax2.plot(n, t["gauss_mass_r1"], color=SERIES[3], linestyle="--", label="$P(|z| \\leq 1)$, $z \\sim N(0, I_n)$")
    h3 = ax2.plot(n, t["gauss_mass_sqrt_n"], color=SERIES[4], linestyle="-.", label="$P(|z| \\leq \\sqrt{n})$")
    # headroom above both curves so the legend sits on empty space whatever n_max is
    span = float(log_ratio.max() - log_ratio.min()) or 1.0
    ax.set_ylim(float(log_ratio.min()) - 0.04 * span, float(log_ratio.max()) + 0.45 * span)
    ax2.set_ylim(0.0, 1.45)
    ax2.set_yticks(np.linspace(0.0, 1.0, 6))
    ax2.set_ylabel("Gaussian probability mass")
    ax.set_title("Ball's share of the cube, and Gaussian mass")
    if log_x:
        ax.set_xscale("log")
    handles = h1 + h2 + h3
    ax.legend(handles, [h.get_label() for h in handles], loc="upper right", fontsize=8)
    return finish(fig, "Volume in high dimensions: the unit ball vanishes, the Gaussian mass leaves it")


# --------------------------------------------------------------------------- 2. norm histograms


def norm_histogram_figure(histograms: pd.DataFrame, concentration: pd.DataFrame) -> Figure:
    """Small multiples of the sampled |z| density per dim against the exact chi(d) density.

    One panel per dim of ``norm_histograms.csv`` (up to 4 columns): the sampled
    density as a filled step histogram, the exact chi(d) density (``chi_pdf`` at
    the bin centres) as a line, and vertical lines at sqrt(d) and at the chi(d)
    mean (from ``norm_concentration.csv``, or computed when a dim is missing there).
    Panels are titled "d = …"; one legend is shared under the grid.
    """

    dims = sorted(int(d) for d in np.unique(histograms["dim"]))
    if not dims:
        raise LatentwalkError("norm_histogram_figure: the histogram table has no rows")
    ncols = min(len(dims), 4 if len(dims) > 6 else 3)
    nrows = int(np.ceil(len(dims) / ncols))
    fig, axes = new_subplots(nrows, ncols, figsize=(3.4 * ncols, 2.5 * nrows + 0.6), squeeze=False, layout="constrained")
    conc = {int(d): k for k, d in enumerate(concentration["dim"])} if "dim" in concentration.columns else {}
    handles: dict[str, Any] = {}
    n_samples = None
    for k, d in enumerate(dims):
        ax = axes[k // ncols, k % ncols]
        h = histograms[histograms["dim"] == d].sort_values("bin_left", kind="stable")
        left, right, density, exact = (h[c].to_numpy() for c in ("bin_left", "bin_right", "density", "chi_pdf"))
        edges = np.append(left, right[-1])
        centres = 0.5 * (left + right)
        handles["samples"] = ax.stairs(density, edges, fill=True, color=SERIES[0], alpha=0.35, linewidth=0)
        ax.stairs(density, edges, color=SERIES[0], linewidth=0.8)
        (handles["chi"],) = ax.plot(centres, exact, color=SERIES[1], linewidth=1.6)
        if d in conc:
            k_row = conc[d]
            sqrt_d, mean = float(concentration["sqrt_d"].iloc[k_row]), float(concentration["chi_mean"].iloc[k_row])
            n_samples = int(concentration["n"].iloc[k_row]) if "n" in concentration.columns else n_samples
        else:
            sqrt_d, mean = float(np.sqrt(d)), float(chi_mean(d))
        handles["sqrt"] = ax.axvline(sqrt_d, color="black", linestyle="--", linewidth=1.0)
        handles["mean"] = ax.axvline(mean, color=SERIES[3], linestyle=":", linewidth=1.4)
        ax.set_title(f"d = {d}")
        ax.set_ylim(bottom=0.0, top=1.12 * float(max(np.max(density), np.max(exact))))
        ax.set_xlim(edges[0], edges[-1])
        if k % ncols == 0:
            ax.set_ylabel("density")
        if k >= len(dims) - ncols:
            ax.set_xlabel("|z|")
    for k in range(len(dims), nrows * ncols):
        fig.delaxes(axes[k // ncols, k % ncols])
    sampled = "sampled |z|" + (f" (N = {n_samples:,})" if n_samples else "")
    bottom_legend(
        fig,
        [handles["samples"], handles["chi"], handles["sqrt"], handles["mean"]],
        [sampled, "exact χ(d) density", "√d", "χ(d) mean E|z|"],
        ncol=4,
    )
    return finish(fig, "Norm concentration: |z| of z ~ N(0, I_d) against the exact χ(d) law")


# --------------------------------------------------------------------------- 3. shell width


def shell_width_figure(concentration: pd.DataFrame) -> Figure:
    """How thin the Gaussian shell gets, and how empty the unit ball is, as d grows.

    Left (log-log): the relative width std/mean of |z| — sampled points and the
    exact chi(d) curve over continuous d — with the asymptote 1/sqrt(2d) dashed.
    Right (log y): the share of samples with |z| <= 1 next to the exact
    P(chi2_d <= 1). A share of exactly 0 cannot be drawn on a log axis, so it is
    drawn as an open triangle at the resolution 1/N (dotted line). The y-range
    stops a few decades under 1/N; where the exact curve leaves it, its value at
    the largest d is written at the bottom edge.
    """

    c = concentration.sort_values("dim", kind="stable")
    d = np.asarray(c["dim"], dtype=np.float64)
    if d.size == 0:
        raise LatentwalkError("shell_width_figure: the concentration table has no rows")
    d_lo, d_hi = (float(d.min()), float(d.max())) if d.max() > d.min() else (float(d.min()) / 3, float(d.max()) * 3)
    grid = np.geomspace(d_lo, d_hi, 300)
    m = chi_mean(grid)
    exact_width = np.sqrt(np.maximum(grid - m**2, 0.0)) / m
    fig, axes = new_subplots(1, 2, figsize=(11, 4.3), layout="constrained")

    ax = axes[0]
    ax.plot(grid, exact_width, color=SERIES[1], label="exact χ(d): std / mean")
    ax.plot(grid, 1.0 / np.sqrt(2.0 * grid), color="black", linestyle="--", linewidth=1.0, label="asymptote $1/\\sqrt{2d}$")
    ax.plot(d, c["relative_width"], linestyle="none", marker="o", markersize=6, markerfacecolor="none",
            markeredgecolor=SERIES[0], markeredgewidth=1.5, label="samples: std / mean")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("dimension $d$")
    y_all = np.concatenate([exact_width, np.asarray(c["relative_width"], dtype=np.float64)])
    _plain_log_ticks(ax.yaxis, float(np.nanmin(y_all)), float(np.nanmax(y_all)))
    _plain_log_ticks(ax.xaxis, d_lo, d_hi)
    ax.set_ylabel("relative shell width  std(|z|) / E|z|")
    ax.set_title("The shell gets thinner: relative width of |z|")
    ax.legend(loc="lower left", fontsize=8)

    ax = axes[1]
    n = np.asarray(c["n"], dtype=np.float64) if "n" in c.columns else np.full(d.size, np.nan)
    share = np.asarray(c["inside_unit_ball"], dtype=np.float64)
    log_exact = _log10_chi2_cdf_at_1(grid)
    resolution = 1.0 / np.nanmax(n) if np.isfinite(n).any() else float(share[share > 0].min(initial=1.0))
    floor = float(np.log10(resolution)) - 3.0
    top = 0.3
    ax.plot(grid, 10.0 ** np.maximum(log_exact, floor - 1.0), color=SERIES[1], label="exact $P(\\chi^2_d \\leq 1)$")
    pos = share > 0
    ax.plot(d[pos], share[pos], linestyle="none", marker="o", markersize=6, markerfacecolor="none",
            markeredgecolor=SERIES[0], markeredgewidth=1.5, label="samples with |z| ≤ 1 (share)")
    if (~pos).any():
        zero_at = np.where(np.isfinite(n), 1.0 / n, resolution)[~pos]
        ax.plot(d[~pos], zero_at, linestyle="none", marker="v", markersize=7, markerfacecolor="none",
                markeredgecolor=SERIES[0], markeredgewidth=1.5, label="no sample inside (drawn at 1/N)")
    if np.isfinite(n).any():
        ax.axhline(resolution, color="0.4", linestyle=":", linewidth=1.0, label=f"resolution 1/N (N = {int(np.nanmax(n)):,})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(10.0**floor, top * 10)
    _plain_log_ticks(ax.xaxis, d_lo, d_hi)
    if log_exact[-1] < floor:
        ax.annotate(
            f"exact at d = {round(float(grid[-1]))}:\n$\\approx 10^{{{log_exact[-1]:.0f}}}$ (off scale)",
            xy=(grid[-1], 10.0**floor), xytext=(-6, 16), textcoords="offset points", ha="right", va="bottom",
            fontsize=8, color=SERIES[1], arrowprops={"arrowstyle": "->", "color": SERIES[1], "lw": 1},
        )
    ax.set_xlabel("dimension $d$")
    ax.set_ylabel("probability / share inside unit ball")
    ax.set_title("The unit ball empties: $P(|z| \\leq 1)$")
    ax.legend(loc="lower left", fontsize=8)
    return finish(fig, "Gaussian norm concentration: thin shell, empty centre")


# --------------------------------------------------------------------------- rule plot_geometry


def plot_hypersphere(table_csv: PathLike, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """Unit-ball volume and sphere surface against n."""
    save_figure(hypersphere_figure(read_csv(table_csv)), out_png, out_svg)
    log("hypersphere figure")


def plot_norm_concentration(table_csv: PathLike, hist_csv: PathLike, out: dict[str, PathLike], log: Log = quiet) -> None:
    """Histograms of |z| per dim against chi(d), and the shell's relative width against d."""
    table = read_csv(table_csv)
    save_figure(norm_histogram_figure(read_csv(hist_csv), table), out["histograms_png"], out["histograms_svg"])
    save_figure(shell_width_figure(table), out["width_png"], out["width_svg"])
    log(f"norm concentration figures for {len(table)} dims")


def plot_geometry(spirals: Mapping[int, PathLike], hypersphere_csv: PathLike, norm_csv: PathLike, hist_csv: PathLike,
                  out_dir: PathLike, log: Log = quiet) -> None:
    """Every geometry figure into ``out_dir`` (PNG + SVG each): ``hypersphere``, ``norm_histograms``, ``shell_width``
    and ``unit_sphere_spiral_n{n}`` for each dimension n -> spiral table of ``spirals``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot_hypersphere(hypersphere_csv, out / "hypersphere.png", out / "hypersphere.svg", log)
    plot_norm_concentration(norm_csv, hist_csv, {"histograms_png": out / "norm_histograms.png",
                                                 "histograms_svg": out / "norm_histograms.svg",
                                                 "width_png": out / "shell_width.png", "width_svg": out / "shell_width.svg"}, log)
    for n, table in spirals.items():
        plot_unit_sphere_spiral(table, out / f"unit_sphere_spiral_n{n}.png", out / f"unit_sphere_spiral_n{n}.svg", log)
