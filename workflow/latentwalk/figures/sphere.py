"""The unit-sphere spiral figures: a spiral on the unit sphere in R^3 with a uniform sample of the sphere and its
three projections, or every pairwise projection for n > 3 (data: rule unit_sphere_spiral)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from latentwalk.core.io import LatentwalkError, PathLike, read_parquet
from latentwalk.core.logs import Log, quiet
from latentwalk.figures.style import SERIES, bottom_legend, finish, new_figure, new_subplots, save_figure

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["sphere_spiral_figure", "sphere_projections_figure", "plot_unit_sphere_spiral"]

#: Most coordinates :func:`sphere_projections_figure` draws (n = 12 gives 66 panels).
MAX_PROJECTION_DIMS = 12

_SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(i: int) -> str:
    """``i`` in unicode subscript digits (x₁₂)."""
    return str(i).translate(_SUBSCRIPT)


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

    ``points`` (m, 3) is the walk (e.g. :func:`latentwalk.walks.traverse.sphere_spiral` with
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


def plot_unit_sphere_spiral(table: PathLike, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """3-D: the spiral on the sphere with the uniform sample and three projections; n > 3: all pairwise projections."""
    frame, meta = read_parquet(table)
    dim = int(meta["dim"])
    spiral, uniform = (frame.loc[frame["kind"] == kind, [f"z_{i}" for i in range(dim)]].to_numpy()
                       for kind in ("spiral", "uniform"))
    title = f"spiral on the unit sphere in R^{dim} ({meta['loops']:g} loops, {meta['steps']} points)"
    fig = sphere_spiral_figure(spiral, uniform, title) if dim == 3 else sphere_projections_figure(spiral, title)
    save_figure(fig, out_png, out_svg)
    log(f"unit-sphere spiral figure for n = {dim}")
