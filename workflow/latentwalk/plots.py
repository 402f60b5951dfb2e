"""Figures, rendered from artifacts only, with one shared style.

matplotlib is imported inside :func:`_pyplot` (Agg backend) so importing this
module is cheap. Every figure function returns the Figure; :func:`save_figure`
writes PNG (for the report) and SVG (for papers) atomically.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .io import atomic_path

__all__ = [
    "PALETTE",
    "SERIES",
    "save_figure",
    "training_curves",
    "latent_scatter",
    "project_2d",
    "mosaic",
    "image_rows_figure",
    "decoded_grid_figure",
    "spiral_figure",
    "spiral_animation",
]

# Paul Tol's "muted" qualitative scheme (colour-blind safe) plus a neutral grey: ten classes.
PALETTE = (
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933",
    "#DDCC77", "#CC6677", "#882255", "#AA4499", "#777777",
)
# Three series that stay distinct for every kind of colour blindness (Okabe-Ito).
SERIES = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")

_RC = {
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    "svg.hashsalt": "latentwalk",  # stable ids: same data -> same SVG bytes
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(_RC)
    return plt


def save_figure(fig: Any, png: str | os.PathLike[str], svg: str | os.PathLike[str] | None = None) -> None:
    """Write the figure as PNG (and SVG) atomically, then close it."""
    plt = _pyplot()
    with atomic_path(png) as tmp:
        fig.savefig(tmp, format="png", bbox_inches="tight", metadata={"Software": None})
    if svg is not None:
        with atomic_path(svg) as tmp:
            fig.savefig(tmp, format="svg", bbox_inches="tight", metadata={"Date": None, "Creator": None})
    plt.close(fig)


def training_curves(history: pd.DataFrame, title: str) -> Any:
    """Per-epoch total loss, reconstruction and KL (KL on its own axis; omitted when identically zero)."""
    plt = _pyplot()
    has_kl = bool((history["kl"].abs() > 0).any())
    fig, axes = plt.subplots(1, 2 if has_kl else 1, figsize=(9 if has_kl else 5, 3.4), squeeze=False)
    ax = axes[0, 0]
    ax.plot(history["epoch"], history["loss"], color=SERIES[0], label="total loss")
    ax.plot(history["epoch"], history["reconstruction"], color=SERIES[1], linestyle="--", label="reconstruction")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss per image (nats)")
    ax.legend()
    if has_kl:
        ax2 = axes[0, 1]
        ax2.plot(history["epoch"], history["kl"], color=SERIES[2], label="KL(q(z|x) || N(0, I))")
        ax2.set_xlabel("epoch")
        ax2.set_ylabel("KL per image (nats)")
        ax2.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def project_2d(points: np.ndarray, seed: int = 0, method: str = "pca") -> tuple[np.ndarray, str, np.ndarray | None]:
    """Return 2-D coordinates, the axis-label stem and the explained variance ratio.

    2-D latents are returned as they are; higher-dimensional ones are projected
    on their top two principal components (scikit-learn PCA, fixed seed) or
    embedded with t-SNE (``method="tsne"``; no variance ratio).
    """
    if points.shape[1] == 1:
        return np.column_stack([points[:, 0], np.zeros(len(points))]), "z", None
    if points.shape[1] == 2:
        return points, "z", None
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(points) - 1) // 3)))
        return TSNE(n_components=2, init="pca", random_state=seed, perplexity=perplexity).fit_transform(points), "t-SNE ", None
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=seed)
    return pca.fit_transform(points), "PC", pca.explained_variance_ratio_


def latent_scatter(
    mu: np.ndarray,
    labels: np.ndarray,
    label_kind: str,
    title: str,
    variational: bool,
    seed: int = 0,
    projection: str = "pca",
) -> Any:
    """Encoded means coloured by class (or by angle for ``lines``), beside the histogram of their norms.

    Left: 2-D latents directly (with the circle |z| = sqrt(2), the prior's
    typical radius), larger ones on their top two principal components.
    Right: |mu| against the prior's chi(d) typical shell (0.5%..99.5%),
    shaded, with sqrt(d) marked: does the aggregate posterior fill the prior?
    """
    from scipy import stats

    plt = _pyplot()
    d = mu.shape[1]
    xy, stem, ratio = project_2d(mu.astype(np.float64), seed, projection)
    fig, (ax, ax_norm) = plt.subplots(1, 2, figsize=(10, 4.6), gridspec_kw={"width_ratios": [3, 2]})
    if label_kind == "angle":
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=np.mod(labels, 2 * np.pi), cmap="twilight", s=6, vmin=0, vmax=2 * np.pi, linewidths=0)
        bar = fig.colorbar(sc, ax=ax, ticks=[0, np.pi / 2, np.pi, 3 * np.pi / 2, 2 * np.pi], fraction=0.05)
        bar.ax.set_yticklabels(["0", "π/2", "π", "3π/2", "2π"])
        bar.set_label("line angle (rad)")
    else:
        classes = np.unique(labels)
        for i, cls in enumerate(classes):
            sel = labels == cls
            ax.scatter(xy[sel, 0], xy[sel, 1], s=6, color=PALETTE[i % len(PALETTE)], label=str(cls), linewidths=0)
        ax.legend(title="label", markerscale=2.5, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    if d == 2:
        theta = np.linspace(0, 2 * np.pi, 200)
        r = np.sqrt(2.0)
        ax.plot(r * np.cos(theta), r * np.sin(theta), color="black", linewidth=1, linestyle=":")
        ax.annotate("|z| = √2", xy=(r / np.sqrt(2), r / np.sqrt(2)), xytext=(4, 4), textcoords="offset points", fontsize=8)
    if ratio is None:
        ax.set_xlabel(f"{stem}₁")
        ax.set_ylabel(f"{stem}₂")
    else:
        ax.set_xlabel(f"PC1 ({ratio[0]:.0%} of variance)")
        ax.set_ylabel(f"PC2 ({ratio[1]:.0%} of variance)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title("encoded means" + ("" if d <= 2 else " (t-SNE embedding)" if projection == "tsne" else " (PCA projection)"))
    norms = np.linalg.norm(mu.astype(np.float64), axis=1)
    law = stats.chi(d)
    lo, hi = law.ppf([0.005, 0.995])
    ax_norm.axvspan(lo, hi, color=SERIES[2], alpha=0.15, label="N(0, I) shell (99%)")
    ax_norm.hist(norms, bins=40, density=True, color=SERIES[0], alpha=0.75, label="|μ| of encoded data")
    grid = np.linspace(0, max(hi, norms.max()) * 1.05, 300)
    ax_norm.plot(grid, law.pdf(grid), color=SERIES[2], linewidth=1.2, label=f"χ({d}) density")
    ax_norm.axvline(np.sqrt(d), color="black", linestyle="--", linewidth=1, label=f"√d = {np.sqrt(d):.2f}")
    ax_norm.set_xlabel("|μ|")
    ax_norm.set_ylabel("density")
    ax_norm.legend(fontsize=7)
    ax_norm.set_title("norms against the prior" if variational else "norms (no prior: deterministic AE)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def subsample(n: int, k: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded subsample of ``k`` out of ``n`` (all when ``k >= n``)."""
    if k >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


# ---- decoded images ------------------------------------------------------------------------------


def mosaic(rows: Sequence[np.ndarray], gap: int = 1, fill: float = 1.0) -> np.ndarray:
    """Tile rows of images ``(S_r, H, W)`` into one 2-D array with ``gap``-pixel separators.

    Rows may have different lengths; short rows are padded with ``fill``.
    """
    if not rows:
        raise ValueError("mosaic needs at least one row")
    h, w = rows[0].shape[1:]
    cols = max(len(r) for r in rows)
    out = np.full((len(rows) * (h + gap) - gap, cols * (w + gap) - gap), fill, dtype=np.float32)
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            out[i * (h + gap) : i * (h + gap) + h, j * (w + gap) : j * (w + gap) + w] = image
    return out


def _mosaic_axes(ax: Any, rows: Sequence[np.ndarray], gap: int = 1) -> tuple[int, int]:
    """Draw a mosaic (white separators, images dark-on-light as decoded: 0 black, 1 white) on ``ax``."""
    h, w = rows[0].shape[1:]
    ax.imshow(mosaic(rows, gap, fill=0.5), cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return h + gap, w + gap


def image_rows_figure(
    rows: Sequence[np.ndarray],
    row_labels: Sequence[str],
    title: str,
    col_labels: Sequence[str] | None = None,
    col_title: str = "",
    mark_ends: bool = False,
    group_size: int = 0,
    cell_inches: float = 0.42,
) -> Any:
    """Rows of decoded images with labels; optionally frame each row's endpoints.

    ``group_size`` > 0 draws a thin rule after every ``group_size`` rows (e.g.
    between the method rows of successive endpoint pairs).
    """
    plt = _pyplot()
    cols = max(len(r) for r in rows)
    width = max(4.5, cols * cell_inches + 2.2)
    height = max(1.6, len(rows) * cell_inches + 1.0)
    fig, ax = plt.subplots(figsize=(width, height))
    dy, dx = _mosaic_axes(ax, rows)
    h, w = rows[0].shape[1:]
    ax.set_yticks([i * dy + h / 2 - 0.5 for i in range(len(rows))])
    ax.set_yticklabels(row_labels, fontsize=8)
    if col_labels is not None:
        ax.set_xticks([j * dx + w / 2 - 0.5 for j in range(len(col_labels))])
        ax.set_xticklabels(col_labels, fontsize=7, rotation=0)
        ax.set_xlabel(col_title)
    else:
        ax.set_xticks([])
    ax.tick_params(length=0)
    if mark_ends:
        from matplotlib.patches import Rectangle

        for i, row in enumerate(rows):
            for j in (0, len(row) - 1):
                ax.add_patch(
                    Rectangle((j * dx - 0.5, i * dy - 0.5), w, h, fill=False, edgecolor=SERIES[1], linewidth=1.5)
                )
    if group_size > 0:
        for k in range(group_size, len(rows), group_size):
            ax.axhline(k * dy - 1, color=SERIES[0], linewidth=0.8)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def decoded_grid_figure(images: np.ndarray, u: np.ndarray, v: np.ndarray, coordinates: str, title: str) -> Any:
    """The decoded n x n grid (the latent manifold), with its latent or PC coordinates on the axes."""
    plt = _pyplot()
    n = images.shape[0]
    size = min(9.0, max(4.0, n * 0.45))
    fig, ax = plt.subplots(figsize=(size + 0.8, size + 0.5))
    dy, dx = _mosaic_axes(ax, list(images))
    h, w = images.shape[2:]
    stride = max(1, n // 7)
    ticks = list(range(0, n, stride))
    ax.set_xticks([j * dx + w / 2 - 0.5 for j in ticks])
    ax.set_xticklabels([f"{u[j]:.2g}" for j in ticks], fontsize=8)
    ax.set_yticks([i * dy + h / 2 - 0.5 for i in ticks])
    ax.set_yticklabels([f"{v[i]:.2g}" for i in ticks], fontsize=8)
    if coordinates == "latent":
        ax.set_xlabel("z₁")
        ax.set_ylabel("z₂")
    else:
        ax.set_xlabel("PC1 (standard deviations from the mean)")
        ax.set_ylabel("PC2 (standard deviations from the mean)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def _prior_density(ax: Any, extent: float) -> None:
    grid = np.linspace(-extent, extent, 200)
    xx, yy = np.meshgrid(grid, grid)
    density = np.exp(-(xx**2 + yy**2) / 2) / (2 * np.pi)
    ax.contourf(xx, yy, density, levels=12, cmap="Greys", alpha=0.6)


def spiral_figure(xy: np.ndarray, t: np.ndarray, frames: np.ndarray, title: str, n_frames: int = 12) -> Any:
    """The 2-D spiral walk: trace over the N(0, I) density, components vs t, and decoded frames."""
    plt = _pyplot()
    fig = plt.figure(figsize=(11, 6.2))
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 1.3])
    ax_trace = fig.add_subplot(grid[0, 0])
    extent = float(np.abs(xy).max()) * 1.15 + 0.1
    _prior_density(ax_trace, extent)
    ax_trace.plot(xy[:, 0], xy[:, 1], color=SERIES[0], linewidth=1.5)
    pick = np.linspace(0, len(t) - 1, n_frames).round().astype(int)
    ax_trace.scatter(xy[pick, 0], xy[pick, 1], color=SERIES[3], s=18, zorder=3, label="decoded below")
    ax_trace.scatter(xy[:1, 0], xy[:1, 1], color="black", marker="s", s=25, zorder=4, label="start")
    ax_trace.set_xlabel("z₁")
    ax_trace.set_ylabel("z₂")
    ax_trace.set_aspect("equal")
    ax_trace.legend(loc="upper right", fontsize=8)
    ax_trace.set_title("trace over the N(0, I) density")
    ax_comp = fig.add_subplot(grid[0, 1])
    ax_comp.plot(t, xy[:, 0], color=SERIES[0], label="z₁(t) = (0.2t − 2) sin t")
    ax_comp.plot(t, xy[:, 1], color=SERIES[1], linestyle="--", label="z₂(t) = (0.2t − 2) cos t")
    ax_comp.set_xlabel("t (rad)")
    ax_comp.set_ylabel("latent coordinate")
    ax_comp.legend(fontsize=8)
    ax_comp.set_title("components along the walk")
    ax_frames = fig.add_subplot(grid[1, :])
    dy, dx = _mosaic_axes(ax_frames, [frames[pick]])
    h, w = frames.shape[1:]
    ax_frames.set_xticks([j * dx + w / 2 - 0.5 for j in range(len(pick))])
    ax_frames.set_xticklabels([f"{t[k]:.2f}" for k in pick], fontsize=7)
    ax_frames.set_xlabel("t (rad)")
    ax_frames.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def spiral_animation(xy: np.ndarray, frames: np.ndarray, out_gif: str | os.PathLike[str], title: str, fps: int = 12) -> int:
    """Write an animated GIF of the walk: decoded frame beside the trace with a moving point.

    Returns the number of frames written (one per path step).
    """
    plt = _pyplot()
    from matplotlib.animation import FuncAnimation, PillowWriter

    fig, (ax_trace, ax_image) = plt.subplots(1, 2, figsize=(6.4, 3.2))
    extent = float(np.abs(xy).max()) * 1.15 + 0.1
    _prior_density(ax_trace, extent)
    ax_trace.plot(xy[:, 0], xy[:, 1], color=SERIES[0], linewidth=1)
    (point,) = ax_trace.plot(xy[:1, 0], xy[:1, 1], "o", color=SERIES[3], markersize=7)
    ax_trace.set_aspect("equal")
    ax_trace.set_xlabel("z₁")
    ax_trace.set_ylabel("z₂")
    image = ax_image.imshow(frames[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax_image.set_axis_off()
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()

    def update(k: int) -> tuple[Any, Any]:
        point.set_data(xy[k : k + 1, 0], xy[k : k + 1, 1])
        image.set_data(frames[k])
        return point, image

    animation = FuncAnimation(fig, update, frames=len(frames), blit=False)
    with atomic_path(out_gif) as tmp:
        animation.save(tmp, writer=PillowWriter(fps=fps), dpi=80)
    plt.close(fig)
    return len(frames)
