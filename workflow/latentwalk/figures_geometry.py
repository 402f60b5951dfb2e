"""Figures of high-dimensional geometry: unit-ball volumes, Gaussian norm concentration, spirals on spheres.

Every function is pure: it takes tables (or arrays) already loaded by the
caller, builds one matplotlib Figure with the shared style of
:mod:`latentwalk.plots` and returns it; the caller writes it with
:func:`latentwalk.plots.save_figure`. matplotlib is only reached through
:func:`latentwalk.plots.new_figure` (Agg canvas, project rcParams), so importing
this module stays cheap.

Quantities that can be astronomically small (unit-ball volumes for n in the
thousands, P(chi2_d <= 1) for large d) are drawn from their logarithms so they
never underflow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import math

import numpy as np

from .columns import columns_of, sorted_by, take
from .io import LatentwalkError
from .plots import SERIES, bottom_legend, finish, new_figure, new_subplots

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "hypersphere_figure",
    "norm_histogram_figure",
    "shell_width_figure",
    "sphere_projections_figure",
    "sphere_spiral_figure",
]

#: Most coordinates :func:`sphere_projections_figure` draws (n = 12 gives 66 panels).
MAX_PROJECTION_DIMS = 12

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")
_LN10 = float(np.log(10.0))


# --------------------------------------------------------------------------- helpers


def _sub(i: int) -> str:
    """``i`` in unicode subscript digits (x₁₂)."""
    return str(i).translate(_SUBSCRIPT)


def _power_of_ten_axis(axis: Any, max_exponent: float = np.inf) -> None:
    """Label an axis that carries log10 values as 10^k at integer k (no labels above ``max_exponent``)."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=7, integer=True, steps=[1, 2, 2.5, 5, 10]))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: "" if v > max_exponent else f"$10^{{{round(v)}}}$"))


def _plain_log_ticks(axis: Any, lo: float, hi: float) -> None:
    """Plain-number labels (0.05, 2, 100) on a log axis: 1-2-5 ticks over short ranges, decades over long ones."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

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
    gammaln = np.vectorize(math.lgamma, otypes=[np.float64])  # scipy.special's import would cost the job 0.2 core-s
    x = 0.5
    k = np.arange(1, 81, dtype=np.float64)[:, None]
    series = 1.0 + np.cumprod(x / (a[None, :] + k), axis=0).sum(axis=0)
    return (a * np.log(x) - x - gammaln(a + 1.0) + np.log(series)) / _LN10


# --------------------------------------------------------------------------- 1. hypersphere


def hypersphere_figure(table: Any) -> Figure:
    """Unit-ball volume V_n and unit-sphere surface S_{n-1} against n, and the ball's share of the cube.

    Three panels from ``hypersphere.csv`` (:func:`latentwalk.stats.hypersphere_table`):

    1. V_n and S_{n-1} on a linear scale for n <= 25, their maxima marked and
       annotated (V_5 ≈ 5.264; S_{n-1} peaks at n = 7, S_6 ≈ 33.07). The two
       annotations carry the gids ``max_volume`` and ``max_surface``.
    2. The same on a logarithmic scale for every n, drawn from ``log_volume`` and
       ``log_surface`` (so n in the thousands does not underflow).
    3. The ball-to-cube volume ratio V_n / 2^n (log scale, from ``log_volume``) and,
       on a twin linear axis, the Gaussian masses P(|z| <= 1) and P(|z| <= sqrt(n)).
    """
    t = sorted_by(columns_of(table), ["n"])
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


def norm_histogram_figure(histograms: Any, concentration: Any) -> Figure:
    """Small multiples of the sampled |z| density per dim against the exact chi(d) density.

    One panel per dim of ``norm_histograms.csv`` (up to 4 columns): the sampled
    density as a filled step histogram, the exact chi(d) density (``chi_pdf`` at
    the bin centres) as a line, and vertical lines at sqrt(d) and at the chi(d)
    mean (from ``norm_concentration.csv``, or computed when a dim is missing there).
    Panels are titled "d = …"; one legend is shared under the grid.
    """
    from .chi import chi_mean

    histograms, concentration = columns_of(histograms), columns_of(concentration)
    dims = sorted(int(d) for d in np.unique(histograms["dim"]))
    if not dims:
        raise LatentwalkError("norm_histogram_figure: the histogram table has no rows")
    ncols = min(len(dims), 4 if len(dims) > 6 else 3)
    nrows = int(np.ceil(len(dims) / ncols))
    fig, axes = new_subplots(nrows, ncols, figsize=(3.4 * ncols, 2.5 * nrows + 0.6), squeeze=False, layout="constrained")
    conc = {int(d): k for k, d in enumerate(concentration["dim"])} if "dim" in concentration else {}
    handles: dict[str, Any] = {}
    n_samples = None
    for k, d in enumerate(dims):
        ax = axes[k // ncols, k % ncols]
        h = sorted_by(take(histograms, histograms["dim"] == d), ["bin_left"])
        edges = np.append(h["bin_left"], h["bin_right"][-1])
        centres = 0.5 * (h["bin_left"] + h["bin_right"])
        handles["samples"] = ax.stairs(h["density"], edges, fill=True, color=SERIES[0], alpha=0.35, linewidth=0)
        ax.stairs(h["density"], edges, color=SERIES[0], linewidth=0.8)
        (handles["chi"],) = ax.plot(centres, h["chi_pdf"], color=SERIES[1], linewidth=1.6)
        if d in conc:
            k_row = conc[d]
            sqrt_d, mean = float(concentration["sqrt_d"][k_row]), float(concentration["chi_mean"][k_row])
            n_samples = int(concentration["n"][k_row]) if "n" in concentration else n_samples
        else:
            sqrt_d, mean = float(np.sqrt(d)), float(chi_mean(d))
        handles["sqrt"] = ax.axvline(sqrt_d, color="black", linestyle="--", linewidth=1.0)
        handles["mean"] = ax.axvline(mean, color=SERIES[3], linestyle=":", linewidth=1.4)
        ax.set_title(f"d = {d}")
        ax.set_ylim(bottom=0.0, top=1.12 * float(max(np.max(h["density"]), np.max(h["chi_pdf"]))))
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


def shell_width_figure(concentration: Any) -> Figure:
    """How thin the Gaussian shell gets, and how empty the unit ball is, as d grows.

    Left (log-log): the relative width std/mean of |z| — sampled points and the
    exact chi(d) curve over continuous d — with the asymptote 1/sqrt(2d) dashed.
    Right (log y): the share of samples with |z| <= 1 next to the exact
    P(chi2_d <= 1). A share of exactly 0 cannot be drawn on a log axis, so it is
    drawn as an open triangle at the resolution 1/N (dotted line). The y-range
    stops a few decades under 1/N; where the exact curve leaves it, its value at
    the largest d is written at the bottom edge.
    """
    from .chi import chi_mean

    c = sorted_by(columns_of(concentration), ["dim"])
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
    n = np.asarray(c["n"], dtype=np.float64) if "n" in c else np.full(d.size, np.nan)
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


# --------------------------------------------------------------------------- 4./5. sphere spirals


# start filled and small, end hollow and larger: both stay visible where they project to one point
_START: dict[str, Any] = {"marker": "o", "color": SERIES[3], "markersize": 5}
_END: dict[str, Any] = {"marker": "s", "markerfacecolor": "none", "markeredgecolor": SERIES[4], "markeredgewidth": 1.5, "markersize": 8}


def _as_points(points: np.ndarray, name: str, min_dims: int, max_dims: int | None = None) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < min_dims or (max_dims is not None and p.shape[1] > max_dims):
        want = f"{min_dims}" if max_dims == min_dims else f"{min_dims}..{max_dims or 'n'}"
        raise LatentwalkError(f"{name}: points must have shape (m, {want}), got {p.shape}")
    return p


def _projection_panel(ax: Axes, pts: np.ndarray, i: int, j: int, radius: float, background: np.ndarray | None = None) -> Any:
    """One coordinate plane: the path (and background points), the circle |x| = r, equal aspect."""
    if background is not None and len(background):
        ax.scatter(background[:, i], background[:, j], s=2, color=SERIES[1], alpha=0.25, linewidths=0, rasterized=True)
    theta = np.linspace(0, 2 * np.pi, 200)
    ax.plot(radius * np.cos(theta), radius * np.sin(theta), color="0.6", linewidth=0.8, linestyle=":")
    (line,) = ax.plot(pts[:, i], pts[:, j], color=SERIES[0], linewidth=0.9)
    ax.plot(pts[-1, i], pts[-1, j], linestyle="none", **_END)
    ax.plot(pts[0, i], pts[0, j], linestyle="none", **_START)
    ax.set_xlabel(f"x{_sub(i + 1)}")
    ax.set_ylabel(f"x{_sub(j + 1)}")
    ax.set_title(f"x{_sub(i + 1)} vs x{_sub(j + 1)}")
    lim = 1.08 * radius
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal", adjustable="box")
    return line


def _legend_handles(with_uniform: bool, radius: float) -> tuple[list[Any], list[str]]:
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=SERIES[0], linewidth=1.2),
        Line2D([], [], linestyle="none", **_START),
        Line2D([], [], linestyle="none", **_END),
        Line2D([], [], color="0.6", linestyle=":"),
    ]
    labels = ["spiral path", "start", "end", f"circle of radius r = {radius:.3g}"]
    if with_uniform:
        handles.insert(1, Line2D([], [], marker="o", color=SERIES[1], alpha=0.5, linestyle="none", markersize=4))
        labels.insert(1, "uniform on the sphere")
    return handles, labels


def sphere_spiral_figure(points: np.ndarray, uniform: np.ndarray, title: str) -> Figure:
    """A spiral on a 3-D sphere: a 3-D view and its three coordinate projections.

    ``points`` (m, 3) is the walk (e.g. :func:`latentwalk.paths.sphere_spiral` with
    dim 3), drawn as a line with its start and end marked; ``uniform`` (k, 3) is a
    uniform-on-sphere sample drawn as small translucent points (k may be 0). The
    3-D axes have a (1, 1, 1) box aspect; the x₁-x₂, x₁-x₃ and x₂-x₃ projections
    are drawn with equal aspect and the circle of the sphere's radius.
    """
    pts = _as_points(points, "sphere_spiral_figure", 3, 3)
    uni = np.asarray(uniform, dtype=np.float64).reshape(-1, 3) if np.size(uniform) else np.empty((0, 3))
    radius = float(np.max(np.linalg.norm(pts, axis=1)))
    fig = new_figure(figsize=(15, 4.6), layout="constrained")
    grid = fig.add_gridspec(1, 4, width_ratios=(1.6, 1, 1, 1))
    ax3 = fig.add_subplot(grid[0, 0], projection="3d")
    if len(uni):
        ax3.scatter(uni[:, 0], uni[:, 1], uni[:, 2], s=4, color=SERIES[1], alpha=0.35, linewidths=0, depthshade=False)
    ax3.plot(pts[:, 0], pts[:, 1], pts[:, 2], color=SERIES[0], linewidth=1.2)
    ax3.plot([pts[-1, 0]], [pts[-1, 1]], [pts[-1, 2]], linestyle="none", **_END)
    ax3.plot([pts[0, 0]], [pts[0, 1]], [pts[0, 2]], linestyle="none", **_START)
    for setter in (ax3.set_xlim, ax3.set_ylim, ax3.set_zlim):
        setter(-radius, radius)
    ax3.set_box_aspect((1, 1, 1))
    from matplotlib.ticker import MaxNLocator

    for axis in (ax3.xaxis, ax3.yaxis, ax3.zaxis):
        axis.set_major_locator(MaxNLocator(nbins=4, symmetric=True))
    ax3.set_xlabel("x₁")
    ax3.set_ylabel("x₂")
    ax3.set_zlabel("x₃")
    ax3.set_title(f"3-D view (sphere of radius {radius:.3g})")
    for k, (i, j) in enumerate(((0, 1), (0, 2), (1, 2))):
        _projection_panel(fig.add_subplot(grid[0, k + 1]), pts, i, j, radius, uni)
    handles, labels = _legend_handles(bool(len(uni)), radius)
    bottom_legend(fig, handles, labels, ncol=len(labels))
    return finish(fig, title)


def sphere_projections_figure(points: np.ndarray, title: str) -> Figure:
    """All n(n-1)/2 pairwise coordinate projections of a walk on a sphere in R^n.

    ``points`` (m, n) with 2 <= n <= 12; one equal-aspect panel per pair i < j,
    titled "xᵢ vs xⱼ" (6 panels for n = 4), with the circle of the sphere's radius
    and the walk's start and end marked.
    """
    pts = _as_points(points, "sphere_projections_figure", 2, MAX_PROJECTION_DIMS)
    n = pts.shape[1]
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    ncols = 3 if len(pairs) <= 9 else 4 if len(pairs) <= 16 else int(np.ceil(np.sqrt(len(pairs))))
    ncols = min(ncols, len(pairs))
    nrows = int(np.ceil(len(pairs) / ncols))
    fig, axes = new_subplots(nrows, ncols, figsize=(2.9 * ncols, 2.9 * nrows + 0.8), squeeze=False, layout="constrained")
    radius = float(np.max(np.linalg.norm(pts, axis=1)))
    for k, (i, j) in enumerate(pairs):
        _projection_panel(axes[k // ncols, k % ncols], pts, i, j, radius)
    for k in range(len(pairs), nrows * ncols):
        fig.delaxes(axes[k // ncols, k % ncols])
    handles, labels = _legend_handles(False, radius)
    bottom_legend(fig, handles, labels, ncol=len(labels))
    return finish(fig, title)
