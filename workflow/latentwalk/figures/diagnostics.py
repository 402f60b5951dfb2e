"""A run's model diagnostics: the training curves and the scatter of its encoded test means (drawn by the run's
figure job, :func:`latentwalk.figures.walk_figures.plot_walks`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from latentwalk.core.io import PathLike, read_csv, read_json
from latentwalk.core.latents import read_latents
from latentwalk.core.logs import Log, quiet
from latentwalk.core.registry import VIEW_OBJECTS
from latentwalk.figures.style import PALETTE, SERIES, new_subplots, save_figure
from latentwalk.measure.norms import SHELL, chi_pdf, shell_bounds
from latentwalk.walks.projection import embed, pca, subsample

__all__ = ["training_curves", "external_model_card", "project_2d", "latent_scatter", "plot_run"]


def training_curves(history: pd.DataFrame, title: str) -> Any:
    """Per-epoch total loss, reconstruction and KL (KL on its own axis; omitted when identically zero), and for
    ACAI the critic's loss and its verdict on interpolants (the autoencoder's adversarial term), from a run's
    ``train_log.csv``."""
    has_kl = bool(np.any(np.abs(np.asarray(history["kl"], dtype=np.float64)) > 0))
    has_critic = "critic" in history.columns  # ACAI: the critic's game on its own axis
    panels = 1 + has_kl + has_critic
    fig, axes = new_subplots(1, panels, figsize=(4.5 * panels if panels > 1 else 5, 3.4), squeeze=False)
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
    if has_critic:
        ax3 = axes[0, panels - 1]
        ax3.plot(history["epoch"], history["critic"], color=SERIES[3], label="critic loss")
        ax3.plot(history["epoch"], history["adversarial"], color=SERIES[4], linestyle="--",
                 label="critic output² on interpolants")
        ax3.set_xlabel("epoch")
        ax3.set_ylabel("squared error")
        ax3.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def project_2d(points: np.ndarray, seed: int = 0, method: str = "pca") -> tuple[np.ndarray, str, np.ndarray | None]:
    """Return 2-D coordinates, the axis-label stem and the explained variance ratio.

    2-D latents are returned as they are; higher-dimensional ones are projected
    on their top two principal components (:func:`latentwalk.walks.projection.pca`) or
    embedded with t-SNE or UMAP (``method="tsne"``, ``"umap"``; no variance ratio).
    """
    if points.shape[1] == 1:
        return np.column_stack([points[:, 0], np.zeros(len(points))]), "z", None
    if points.shape[1] == 2:
        return points, "z", None
    if method != "pca":
        return embed(points, method, seed), {"tsne": "t-SNE ", "umap": "UMAP "}[method], None
    fit = pca(points, 2)
    return fit.transform(points), "PC", fit.variance_ratio


def latent_scatter(
    mu: np.ndarray,
    labels: np.ndarray,
    label_kind: str,
    title: str,
    variational: bool,
    seed: int = 0,
    projection: str = "pca",
    label_names: list[str] | None = None,
) -> Any:
    """Encoded means coloured by class (named by ``label_names``, by id, where given; or by angle for ``lines``),
    beside the histogram of their norms.

    Left: 2-D latents directly (with the circle |z| = sqrt(2), the prior's
    typical radius), larger ones on their top two principal components.
    Right: |mu| against the prior's chi(d) typical shell (0.5%..99.5%),
    shaded, with sqrt(d) marked: does the aggregate posterior fill the prior?
    """

    d = mu.shape[1]
    xy, stem, ratio = project_2d(mu.astype(np.float64), seed, projection)
    fig, (ax, ax_norm) = new_subplots(1, 2, figsize=(10, 4.6), gridspec_kw={"width_ratios": [3, 2]})
    if label_kind == "angle":
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=np.mod(labels, 2 * np.pi), cmap="twilight", s=6, vmin=0, vmax=2 * np.pi, linewidths=0)
        bar = fig.colorbar(sc, ax=ax, ticks=[0, np.pi / 2, np.pi, 3 * np.pi / 2, 2 * np.pi], fraction=0.05)
        bar.ax.set_yticklabels(["0", "π/2", "π", "3π/2", "2π"])
        bar.set_label("line angle (rad)")
    else:
        classes = np.unique(labels)
        for i, cls in enumerate(classes):
            sel = labels == cls
            name = ("no label" if label_kind == "none" else label_names[int(cls)] if label_names
                    else VIEW_OBJECTS[int(cls)] if label_kind == "object" else str(cls))
            ax.scatter(xy[sel, 0], xy[sel, 1], s=6, color=PALETTE[i % len(PALETTE)], label=name, linewidths=0)
        ax.legend(title="object" if label_kind == "object" else "label", markerscale=2.5, loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
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
    ax.set_title("encoded means" + ("" if d <= 2 else {"tsne": " (t-SNE embedding)", "umap": " (UMAP embedding)"}.get(projection, " (PCA projection)")))
    norms = np.linalg.norm(mu.astype(np.float64), axis=1)
    lo, hi = shell_bounds(d, SHELL)
    ax_norm.axvspan(lo, hi, color=SERIES[2], alpha=0.15, label="N(0, I) shell (99%)")
    ax_norm.hist(norms, bins=40, density=True, color=SERIES[0], alpha=0.75, label="|μ| of encoded data")
    grid = np.linspace(0, max(hi, norms.max()) * 1.05, 300)
    ax_norm.plot(grid, chi_pdf(grid, d), color=SERIES[2], linewidth=1.2, label=f"χ({d}) density")
    ax_norm.axvline(np.sqrt(d), color="black", linestyle="--", linewidth=1, label=f"√d = {np.sqrt(d):.2f}")
    ax_norm.set_xlabel("|μ|")
    ax_norm.set_ylabel("density")
    ax_norm.legend(fontsize=7)
    ax_norm.set_title("norms against the prior" if variational else "norms (no prior: deterministic AE)")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def external_model_card(meta: Mapping[str, Any], title: str) -> Any:
    """An external model's place among the training curves: its reconstruction error per split (mean squared error
    per pixel and channel, from rule import_model) and the files it was loaded from, with their SHA-256."""
    external = meta["external"]
    splits = [(split, value) for split, value in (("train", meta["train"]["mse"]), ("test", meta["test"]["mse"]))
              if value is not None]
    fig, ax = new_subplots(1, 1, figsize=(6.4, 3.4))
    ax.bar([name for name, _ in splits], [value for _, value in splits], color=[SERIES[0], SERIES[1]][: len(splits)])
    ax.set_ylabel("reconstruction MSE per pixel")
    ax.set_xlabel("split")
    notes = [f"{part}: {Path(external[part]).name} ({external[f'{part}_format']}, SHA-256 {external[f'{part}_sha256'][:12]})"
             for part in ("encoder", "decoder")]
    ax.set_title("\n".join(notes), fontsize="small")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_run(
    run: str,
    history_csv: PathLike,
    latents: PathLike,
    max_points: int,
    projection: str,
    seed: int,
    out: Mapping[str, PathLike],
    log: Log = quiet,
) -> None:
    """Draw the run's training curves and latent scatter; ``out`` maps ``{figure}_png`` / ``{figure}_svg`` to files."""

    def save(fig: object, name: str) -> None:
        save_figure(fig, out[f"{name}_png"], out[f"{name}_svg"])

    if str(history_csv).endswith(".json"):  # an external model: trained elsewhere, its import record instead
        save(external_model_card(read_json(history_csv), f"{run}: trained elsewhere"), "training_curves")
        log("external model: reconstruction error per split")
    else:
        history = read_csv(history_csv)
        save(training_curves(history, f"{run}: training curves"), "training_curves")
        log(f"training curves: {len(history)} epochs")

    table, meta = read_latents(latents)
    test = np.flatnonzero(table["split"].astype(str).to_numpy() == "test")
    rows = test[subsample(len(test), max_points, seed)]
    mu = np.column_stack([table[f"mu_{i}"].to_numpy()[rows] for i in range(int(meta["latent_dim"]))])
    fig = latent_scatter(mu, table["label"].to_numpy()[rows], meta.get("label_kind", "class"),
                         f"{run}: encoded test means (n={len(rows)})", bool(meta.get("variational", False)), seed, projection,
                         meta.get("label_names"))
    save(fig, "latent_scatter")
    log(f"latent scatter: {len(rows)} test latents")
