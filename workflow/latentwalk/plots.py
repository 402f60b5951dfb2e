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

__all__ = ["PALETTE", "save_figure", "training_curves", "latent_scatter", "project_2d"]

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


def project_2d(points: np.ndarray, seed: int = 0) -> tuple[np.ndarray, str, np.ndarray | None]:
    """Return 2-D coordinates, the axis-label stem and the explained variance ratio.

    2-D latents are returned as they are; higher-dimensional ones are projected
    on their top two principal components (scikit-learn PCA, fixed seed).
    """
    if points.shape[1] == 1:
        return np.column_stack([points[:, 0], np.zeros(len(points))]), "z", None
    if points.shape[1] == 2:
        return points, "z", None
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
) -> Any:
    """Encoded means coloured by class (or by angle for ``lines``).

    For 2-D latents of a variational model the circle of radius sqrt(2), the
    prior's typical radius, is drawn; for d > 2 the points are PCA-projected.
    """
    plt = _pyplot()
    xy, stem, ratio = project_2d(mu.astype(np.float64), seed)
    fig, ax = plt.subplots(figsize=(5.6, 4.8))
    if label_kind == "angle":
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=np.mod(labels, 2 * np.pi), cmap="twilight", s=6, vmin=0, vmax=2 * np.pi, linewidths=0)
        bar = fig.colorbar(sc, ax=ax, ticks=[0, np.pi / 2, np.pi, 3 * np.pi / 2, 2 * np.pi])
        bar.ax.set_yticklabels(["0", "π/2", "π", "3π/2", "2π"])
        bar.set_label("line angle (rad)")
    else:
        classes = np.unique(labels)
        for i, cls in enumerate(classes):
            sel = labels == cls
            ax.scatter(xy[sel, 0], xy[sel, 1], s=6, color=PALETTE[i % len(PALETTE)], label=str(cls), linewidths=0)
        ax.legend(title="label", markerscale=2.5, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
    if mu.shape[1] == 2 and variational:
        theta = np.linspace(0, 2 * np.pi, 200)
        r = np.sqrt(2.0)
        ax.plot(r * np.cos(theta), r * np.sin(theta), color="black", linewidth=1, linestyle=":", label="_shell")
        ax.annotate("|z| = √2", xy=(r / np.sqrt(2), r / np.sqrt(2)), xytext=(4, 4), textcoords="offset points", fontsize=8)
    if ratio is None:
        ax.set_xlabel(f"{stem}₁")
        ax.set_ylabel(f"{stem}₂")
    else:
        ax.set_xlabel(f"PC1 ({ratio[0]:.0%} of variance)")
        ax.set_ylabel(f"PC2 ({ratio[1]:.0%} of variance)")
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def subsample(n: int, k: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded subsample of ``k`` out of ``n`` (all when ``k >= n``)."""
    if k >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))


def figure_title(run: str, extra: Sequence[str] = ()) -> str:
    """A title that names the run (and extra facts)."""
    return " · ".join([run, *extra])
