"""Figures of viewpoint interpolation (views data): strips against the true renders, recovered azimuths, and the
latent space coloured by azimuth per object (rule plot_views); and the views dataset's contact sheet (rule
plot_view_dataset)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from latentwalk.core.io import LatentwalkError, PathLike, method_files, read_csv, read_parquet
from latentwalk.core.latents import latent_matrix, read_latents
from latentwalk.core.logs import Log, quiet
from latentwalk.core.registry import BASELINES, PAIR_INTERPOLATIONS, VIEW_OBJECTS
from latentwalk.data.dataset import as_float, load_dataset, load_references
from latentwalk.data.views import colourise, render_views
from latentwalk.figures.decoded import image_rows_figure
from latentwalk.figures.style import SERIES, empty_panel, new_subplots, save_figure
from latentwalk.measure.quality import crossfade, interpolate_azimuth, wrap_angle
from latentwalk.walks.projection import pca

__all__ = ["view_azimuth_figure", "view_scatter_figure", "azimuth_curves", "plot_views", "plot_view_dataset"]


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


def azimuth_curves(frames: pd.DataFrame, azimuth_of: Mapping[int, float], walks: Sequence[str],
                   max_paths: int) -> dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """(t, recovered, straight-line truth) for the first ``max_paths`` same-object paths of each walk, from the
    frame quality table (``view_azimuth``, ``index_a``, ``index_b``) and each dataset row's azimuth."""
    out: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for walk in walks:
        mine = frames[(frames["walk"].astype(str) == walk) & frames["same_object"].astype(bool)]
        out[walk] = []
        for pid in np.unique(mine["path_id"])[:max_paths]:
            path = mine[mine["path_id"] == pid].sort_values("step", kind="stable")
            t = np.linspace(0.0, 1.0, len(path))
            a = azimuth_of[int(path["index_a"].iloc[0])]
            b = azimuth_of[int(path["index_b"].iloc[0])]
            out[walk].append((t, unwrap_from(a, np.asarray(path["view_azimuth"], dtype=np.float64)), a + t * wrap_angle(b - a)))
    return out


# --------------------------------------------------------------------------- rules plot_views, plot_view_dataset


def _latent_row(latents: pd.DataFrame, index: int) -> dict[str, Any]:
    """The latent table's row of dataset row ``index``, as column -> value."""
    hits = np.flatnonzero(latents["index"].to_numpy() == index)
    if hits.size == 0:
        raise LatentwalkError(f"dataset row {index} of a path is not in the run's latent table")
    return {name: latents[name].iloc[hits[0]] for name in latents.columns}


def _ground_truth(table: pd.DataFrame, latents: pd.DataFrame, pair: int, views: Mapping[str, Any]) -> tuple[np.ndarray, str]:
    """The true renders at the interpolated view of every step of ``pair`` (shorter turn, elevation linear), and
    a row label naming the object and its two azimuths."""
    rows = table[table["pair"] == pair].sort_values("step", kind="stable")
    a, b = _latent_row(latents, int(rows["index_a"].iloc[0])), _latent_row(latents, int(rows["index_b"].iloc[0]))
    t = np.linspace(0.0, 1.0, len(rows))
    azimuth = interpolate_azimuth(a["azimuth"], b["azimuth"], t)
    elevation = (1 - t) * a["elevation"] + t * b["elevation"]
    name = VIEW_OBJECTS[int(a["label"])]
    names = [name] * len(t)
    truth = colourise(render_views(names, azimuth, elevation, int(views["size"]), int(views["supersample"])), names,
                      int(views.get("channels", 1)))
    return truth, f"{name} {np.degrees(a['azimuth']):.0f}°→{np.degrees(b['azimuth']):.0f}°"


def plot_views(run: str, methods: Sequence[str], inputs: Mapping[str, PathLike], settings: Mapping[str, Any],
               out: Mapping[str, PathLike], log: Log = quiet) -> None:
    """Write ``out['view_strips']`` (PNG: raster content), ``out['view_azimuths']`` and ``out['view_scatter']`` (PNG,
    with SVG beside them: ``out['view_azimuths_svg']``, ``out['view_scatter_svg']``) for one views run, from the
    rule's ``inputs``: ``paths`` and ``decoded`` (the run's walks), ``quality`` (its frame scores) and ``latents``.

    Strips: for the first ``settings['strip_pairs']`` same-object pairs, each pair interpolation's decoded frames,
    the pixel cross-fade of the true endpoint renders, and the true renders at the interpolated azimuths
    (``settings['views']``: the ``data.views`` settings the renders need). Azimuths: per walk, the recovered azimuth
    along each same-object path against the straight turn. Scatter: the encoded test views per object, coloured by
    azimuth.
    """
    paths_dir, decoded_dir, latents, views = inputs["paths"], inputs["decoded"], inputs["latents"], settings["views"]
    strip_pairs = int(settings["strip_pairs"])
    table, meta = read_latents(latents)
    if meta.get("label_kind") != "object" or "azimuth" not in table.columns:
        raise LatentwalkError(f"{latents}: viewpoint figures need views data (object labels and azimuths)")
    pair_methods = [m for m in methods if m in PAIR_INTERPOLATIONS]
    walks: dict[str, tuple[pd.DataFrame, np.ndarray]] = {}
    for method, parquet, npz in zip(pair_methods, method_files(paths_dir, pair_methods, ".parquet", exact=False),
                                    method_files(decoded_dir, pair_methods, ".npz", exact=False)):
        frame = read_parquet(parquet)[0].sort_values(["path_id", "step"], kind="stable", ignore_index=True)
        with np.load(npz) as handle:
            walks[method] = (frame, handle["images"])
    rows, labels = [], []
    if walks:
        first, _ = next(iter(walks.values()))
        everywhere = set.intersection(*(set(frame["pair"].tolist()) for frame, _ in walks.values()))  # geodesic: fewer pairs
        same = [p for p in pd.unique(first["pair"][first["label_a"] == first["label_b"]]) if p in everywhere]
        same = same[:strip_pairs]
        for pair in same:
            truth, name = _ground_truth(first, table, pair, views)
            for method, (frame, images) in walks.items():
                ids = np.unique(frame["path_id"][frame["pair"] == pair])
                if len(ids):
                    rows.append(images[int(ids[0])])
                    labels.append(f"{name}  {method}")
            rows.append(crossfade(truth[:1], truth[-1:], len(truth))[0])
            labels.append(f"{name}  {BASELINES[0]}")
            rows.append(truth)
            labels.append(f"{name}  true view")
    if not rows:
        raise LatentwalkError(f"{run}: no pair interpolation between two views of one object to draw")
    group = len(walks) + 2
    steps = rows[0].shape[0]
    fig = image_rows_figure(rows, labels, f"{run}: between two views of one object (last row: the true views)",
                            col_labels=[f"{k / (steps - 1):.2g}" for k in range(steps)], col_title="t",
                            mark_ends=True, group_size=group)
    save_figure(fig, out["view_strips"])

    frames = read_csv(inputs["quality"])
    azimuth_of = dict(zip(table["index"].astype(int).tolist(), table["azimuth"].astype(float).tolist()))
    shown = [w for w in (*PAIR_INTERPOLATIONS, *BASELINES) if w in set(frames["walk"].tolist())]
    save_figure(view_azimuth_figure(azimuth_curves(frames, azimuth_of, shown, 6),
                                    f"{run}: azimuth of the nearest true view along each path"), out["view_azimuths"],
                out["view_azimuths_svg"])

    test = table[table["split"].astype(str) == "test"]
    mu = latent_matrix(test).astype(np.float64)
    if mu.shape[1] <= 2:
        xy = np.column_stack([mu[:, 0], mu[:, 1] if mu.shape[1] == 2 else np.zeros(len(mu))])
        axis = ("z₁", "z₂")
    else:
        fit = pca(mu, 2)
        xy = fit.transform(mu)
        axis = (f"PC1 ({fit.variance_ratio[0]:.0%})", f"PC2 ({fit.variance_ratio[1]:.0%})")
    save_figure(view_scatter_figure(xy, test["label"].to_numpy(), test["azimuth"].to_numpy(), VIEW_OBJECTS, axis,
                                    f"{run}: encoded test views, coloured by azimuth"), out["view_scatter"],
                out["view_scatter_svg"])
    log(f"{run}: {len(rows)} strip rows, azimuth panels for {', '.join(shown)}, {len(test)} views in the scatter")


def plot_view_dataset(data_npz: PathLike, columns: int, out_png: PathLike, log: Log = quiet) -> None:
    """The dataset's contact sheet: each object (one row) at ``columns`` equally spaced azimuths of the reference set
    (its first elevation), then as many training images of it, with their azimuths."""
    refs, data = load_references(data_npz), load_dataset(data_npz)
    first = refs["elevation"] == refs["elevation"].min()
    rows, labels = [], []
    for obj in np.unique(refs["labels"]):
        mine = np.flatnonzero(first & (refs["labels"] == obj))
        rows.append(refs["images"][mine[np.linspace(0, len(mine), columns, endpoint=False).astype(int)]])
        labels.append(f"{VIEW_OBJECTS[int(obj)]}: reference")
        train = np.flatnonzero((data.labels == obj) & (data.split == "train"))[:columns]
        train = train[np.argsort(data.attributes["azimuth"][train], kind="stable")]
        rows.append(as_float(data.images[train]))
        labels.append(f"{VIEW_OBJECTS[int(obj)]}: training set")
    elevation = np.degrees(refs["elevation"].min())
    fig = image_rows_figure(rows, labels, f"views: {len(data.labels)} images of {len(rows) // 2} objects "
                            f"({data.images.shape[1]}x{data.images.shape[2]}); reference row at elevation {elevation:.0f}°",
                            col_labels=[f"{360 * k / columns:.0f}°" for k in range(columns)],
                            col_title="reference azimuth (training rows: sorted by azimuth)", group_size=2, cell_inches=0.6)
    save_figure(fig, out_png)
    log(f"contact sheet: {len(rows)} rows of {columns}")
