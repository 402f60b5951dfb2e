"""Stage plot_view_walks: a views run's figures and its viewpoint figures (strips against the true renders,
recovered azimuths, latents coloured by azimuth per object); and the views dataset's contact sheet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..columns import Columns, n_rows, ordered_unique, read_csv_table, sorted_by, take
from ..io import LatentwalkError, PathLike, method_files
from ..logs import Log, quiet
from ..registry import BASELINES, PAIR_INTERPOLATIONS, VIEW_OBJECTS


def _latent_row(latents: Columns, index: int) -> dict[str, Any]:
    """The latent table's row of dataset row ``index``, as column -> value."""
    hits = np.flatnonzero(latents["index"] == index)
    if hits.size == 0:
        raise LatentwalkError(f"dataset row {index} of a path is not in the run's latent table")
    return {name: values[hits[0]] for name, values in latents.items()}


def _ground_truth(table: Columns, latents: Columns, pair: int, views: Mapping[str, Any]) -> tuple[np.ndarray, str]:
    """The true renders at the interpolated view of every step of ``pair`` (shorter turn, elevation linear), and
    a row label naming the object and its two azimuths."""
    from ..quality import interpolate_azimuth
    from ..views import render_views

    rows = sorted_by(take(table, table["pair"] == pair), ["step"])
    a, b = _latent_row(latents, int(rows["index_a"][0])), _latent_row(latents, int(rows["index_b"][0]))
    t = np.linspace(0.0, 1.0, n_rows(rows))
    azimuth = interpolate_azimuth(a["azimuth"], b["azimuth"], t)
    elevation = (1 - t) * a["elevation"] + t * b["elevation"]
    name = VIEW_OBJECTS[int(a["label"])]
    truth = render_views([name] * len(t), azimuth, elevation, int(views["size"]), int(views["supersample"]))
    return truth, f"{name} {np.degrees(a['azimuth']):.0f}°→{np.degrees(b['azimuth']):.0f}°"


def plot_views(
    run: str,
    methods: Sequence[str],
    paths_dir: PathLike,
    decoded_dir: PathLike,
    quality_csv: PathLike,
    latents: PathLike,
    views: Mapping[str, Any],
    strip_pairs: int,
    out: Mapping[str, PathLike],
    log: Log = quiet,
) -> None:
    """Write ``out['view_strips']`` (PNG: raster content), ``out['view_azimuths']`` and ``out['view_scatter']`` (PNG,
    with SVG beside them: ``out['view_azimuths_svg']``, ``out['view_scatter_svg']``) for one views run.

    Strips: for the first ``strip_pairs`` same-object pairs, each pair interpolation's decoded frames, the pixel
    cross-fade of the true endpoint renders, and the true renders at the interpolated azimuths (``views``: the
    ``data.views`` settings the renders need). Azimuths: per walk, the recovered azimuth along each same-object
    path against the straight turn. Scatter: the encoded test views per object, coloured by azimuth.
    """
    from ..encoding import latent_matrix, read_latent_columns
    from ..figures_decoded import image_rows_figure
    from ..figures_views import azimuth_curves, view_azimuth_figure, view_scatter_figure
    from ..io import read_parquet_columns
    from ..plots import save_figure
    from ..projection import pca
    from ..quality import crossfade

    table, meta = read_latent_columns(latents)
    if meta.get("label_kind") != "object" or "azimuth" not in table:
        raise LatentwalkError(f"{latents}: viewpoint figures need views data (object labels and azimuths)")
    pair_methods = [m for m in methods if m in PAIR_INTERPOLATIONS]
    walks: dict[str, tuple[Columns, np.ndarray]] = {}
    for method, parquet, npz in zip(pair_methods, method_files(paths_dir, pair_methods, ".parquet", exact=False),
                                    method_files(decoded_dir, pair_methods, ".npz", exact=False)):
        frame = sorted_by(read_parquet_columns(parquet)[0], ["path_id", "step"])
        with np.load(npz) as handle:
            walks[method] = (frame, handle["images"])
    rows, labels = [], []
    if walks:
        first, _ = next(iter(walks.values()))
        everywhere = set.intersection(*(set(frame["pair"].tolist()) for frame, _ in walks.values()))  # geodesic: fewer pairs
        same = [p for p in ordered_unique(first["pair"][first["label_a"] == first["label_b"]]) if p in everywhere]
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

    frames = read_csv_table(quality_csv)
    azimuth_of = dict(zip(table["index"].astype(int).tolist(), table["azimuth"].astype(float).tolist()))
    shown = [w for w in (*PAIR_INTERPOLATIONS, *BASELINES) if w in set(frames["walk"].tolist())]
    save_figure(view_azimuth_figure(azimuth_curves(frames, azimuth_of, shown, 6),
                                    f"{run}: azimuth of the nearest true view along each path"), out["view_azimuths"],
                out["view_azimuths_svg"])

    test = take(table, table["split"] == "test")
    mu = latent_matrix(test).astype(np.float64)
    if mu.shape[1] <= 2:
        xy = np.column_stack([mu[:, 0], mu[:, 1] if mu.shape[1] == 2 else np.zeros(len(mu))])
        axis = ("z₁", "z₂")
    else:
        fit = pca(mu, 2)
        xy = fit.transform(mu)
        axis = (f"PC1 ({fit.variance_ratio[0]:.0%})", f"PC2 ({fit.variance_ratio[1]:.0%})")
    save_figure(view_scatter_figure(xy, test["label"], test["azimuth"], VIEW_OBJECTS, axis,
                                    f"{run}: encoded test views, coloured by azimuth"), out["view_scatter"],
                out["view_scatter_svg"])
    log(f"{run}: {len(rows)} strip rows, azimuth panels for {', '.join(shown)}, {n_rows(test)} views in the scatter")


def plot_view_walks(
    run: str,
    methods: Sequence[str],
    paths_dir: PathLike,
    decoded_dir: PathLike,
    latent_dim: int,
    path_norms_csv: PathLike,
    quality_csv: PathLike,
    quality_summary_csv: PathLike,
    views: Mapping[str, Any],
    strip_pairs: int,
    fps: int,
    out: Mapping[str, PathLike],
    history_csv: PathLike,
    latents: PathLike,
    scatter: Mapping[str, Any],
    log: Log = quiet,
) -> list[str]:
    """Every figure of a views run (:func:`latentwalk.stages.figures_walks.plot_walks`: the diagnostics and the
    path figures) and its viewpoint figures (:func:`plot_views`, from ``latents``), in one
    process: both read the run's paths and decoded frames, so a path setting redraws both anyway, and one job
    saves a figure job's start-up (about a core-second: interpreter, matplotlib, pandas). Returns the names of the
    walk figures."""
    from .figures_walks import plot_walks

    names = plot_walks(run, methods, paths_dir, decoded_dir, latent_dim, path_norms_csv, quality_csv,
                       quality_summary_csv, strip_pairs, fps, out, history_csv, latents, scatter, log)
    plot_views(run, methods, paths_dir, decoded_dir, quality_csv, latents, views, strip_pairs, out, log)
    return names


def plot_view_dataset(data_npz: PathLike, columns: int, out_png: PathLike, log: Log = quiet) -> None:
    """The dataset's contact sheet: each object (one row) at ``columns`` equally spaced azimuths of the reference set
    (its first elevation), then as many training images of it, with their azimuths."""
    from ..datasets import load_dataset, load_references
    from ..figures_decoded import image_rows_figure
    from ..plots import save_figure

    refs, data = load_references(data_npz), load_dataset(data_npz)
    first = refs["elevation"] == refs["elevation"].min()
    rows, labels = [], []
    for obj in np.unique(refs["labels"]):
        mine = np.flatnonzero(first & (refs["labels"] == obj))
        rows.append(refs["images"][mine[np.linspace(0, len(mine), columns, endpoint=False).astype(int)]])
        labels.append(f"{VIEW_OBJECTS[int(obj)]}: reference")
        train = np.flatnonzero((data.labels == obj) & (data.split == "train"))[:columns]
        train = train[np.argsort(data.attributes["azimuth"][train], kind="stable")]
        rows.append(data.images[train])
        labels.append(f"{VIEW_OBJECTS[int(obj)]}: training set")
    elevation = np.degrees(refs["elevation"].min())
    fig = image_rows_figure(rows, labels, f"views: {len(data.labels)} images of {len(rows) // 2} objects "
                            f"({data.images.shape[1]}x{data.images.shape[2]}); reference row at elevation {elevation:.0f}°",
                            col_labels=[f"{360 * k / columns:.0f}°" for k in range(columns)],
                            col_title="reference azimuth (training rows: sorted by azimuth)", group_size=2, cell_inches=0.6)
    save_figure(fig, out_png)
    log(f"contact sheet: {len(rows)} rows of {columns}")
