"""Figures of viewpoint interpolation (views data): strips against the true renders, recovered azimuths, and the
latent space coloured by azimuth per object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .columns import columns_of, n_rows, sorted_by, take
from .plots import SERIES, empty_panel, new_subplots

__all__ = ["view_azimuth_figure", "view_scatter_figure"]


def view_azimuth_figure(curves: Mapping[str, Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]]], title: str) -> Any:
    """Per walk, one panel: the azimuth of each frame's nearest reference render (solid, degrees, unwrapped from
    the start view) against t, over the straight turn from the first view to the second (dashed, same colour).

    ``curves[walk]`` holds ``(t, recovered, truth)`` per same-object path, angles in radians, ``truth`` already
    the straight line. A walk that turns the object evenly lies on its dashed lines; a cross-fade shows a jump.
    """
    walks = list(curves)
    cols = min(3, max(1, len(walks)))
    rows = -(-max(1, len(walks)) // cols)
    fig, axes = new_subplots(rows, cols, figsize=(3.6 * cols, 2.9 * rows), squeeze=False, sharey=True,
                             layout="constrained")
    for ax in axes.ravel()[len(walks):]:
        ax.set_visible(False)
    for ax, walk in zip(axes.ravel(), walks):
        if not curves[walk]:
            empty_panel(ax, "no path between two views of one object")
            continue
        for k, (t, found, truth) in enumerate(curves[walk]):
            colour = SERIES[k % len(SERIES)]
            ax.plot(t, np.degrees(truth), color=colour, linestyle="--", linewidth=1)
            ax.plot(t, np.degrees(found), color=colour, marker="o", markersize=2.5, linewidth=1.2)
        ax.set_title(walk)
        ax.set_xlabel("t")
    for ax in axes[:, 0]:
        ax.set_ylabel("azimuth (°)")
    fig.suptitle(title)
    return fig


def view_scatter_figure(xy: np.ndarray, objects: np.ndarray, azimuth: np.ndarray, names: Sequence[str],
                        axis_labels: tuple[str, str], title: str) -> Any:
    """The encoded test views in the plane (``xy``), one panel per object, coloured by azimuth on a cyclic map:
    a model that learned the turn draws each object as a closed loop with the colours in order."""
    ids = np.unique(objects)
    fig, axes = new_subplots(1, len(ids), figsize=(3.2 * len(ids) + 0.8, 3.4), squeeze=False, sharex=True,
                             sharey=True, layout="constrained")
    sc = None
    for ax, obj in zip(axes[0], ids):
        ax.scatter(xy[:, 0], xy[:, 1], s=3, color="0.88", linewidths=0)
        sel = objects == obj
        sc = ax.scatter(xy[sel, 0], xy[sel, 1], c=np.mod(azimuth[sel], 2 * np.pi), cmap="twilight", vmin=0,
                        vmax=2 * np.pi, s=7, linewidths=0)
        ax.set_title(f"{names[int(obj)]} ({int(sel.sum())} views)")
        ax.set_xlabel(axis_labels[0])
        ax.set_aspect("equal", adjustable="box")
    axes[0][0].set_ylabel(axis_labels[1])
    if sc is not None:
        bar = fig.colorbar(sc, ax=axes[0].tolist(), ticks=[0, np.pi / 2, np.pi, 3 * np.pi / 2, 2 * np.pi], fraction=0.03)
        bar.ax.set_yticklabels(["0°", "90°", "180°", "270°", "360°"])
        bar.set_label("azimuth")
    fig.suptitle(title)
    return fig


def unwrap_from(start: float, angles: np.ndarray) -> np.ndarray:
    """``angles`` unwrapped into one continuous curve whose first value lies within pi of ``start``."""
    a = np.unwrap(np.asarray(angles, dtype=np.float64))
    return a - 2 * np.pi * np.round((a[0] - start) / (2 * np.pi))


def azimuth_curves(frames: Any, azimuth_of: Mapping[int, float], walks: Sequence[str],
                   max_paths: int) -> dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """(t, recovered, straight-line truth) for the first ``max_paths`` same-object paths of each walk, from the
    frame quality table (``view_azimuth``, ``index_a``, ``index_b``; columns or a DataFrame) and each dataset row's
    azimuth."""
    from .quality import wrap_angle

    frames = columns_of(frames)
    out: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for walk in walks:
        mine = take(frames, (frames["walk"].astype(str) == walk) & frames["same_object"].astype(bool))
        out[walk] = []
        for pid in np.unique(mine["path_id"])[:max_paths]:
            path = sorted_by(take(mine, mine["path_id"] == pid), ["step"])
            t = np.linspace(0.0, 1.0, n_rows(path))
            a = azimuth_of[int(path["index_a"][0])]
            b = azimuth_of[int(path["index_b"][0])]
            out[walk].append((t, unwrap_from(a, np.asarray(path["view_azimuth"], dtype=np.float64)), a + t * wrap_angle(b - a)))
    return out
