"""Rule plot_walks: every figure of a run: its model's diagnostics (:mod:`latentwalk.figures.diagnostics`), the
decoded walks, written as one directory, and the norm and quality measured along the paths (two fixed figures,
PNG + SVG). Views runs also get their viewpoint figures (rule plot_views, :mod:`latentwalk.figures.viewpoints`).

Which figures a run gets follows from its path methods
(:func:`latentwalk.core.registry.walk_figures`); each figure is drawn by one small
function in :data:`WALK_DRAWERS`, and each traversal's rows and labels by one in
:data:`TRAVERSAL_ROWS` (keys checked against the registry by a test).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from latentwalk.core.io import LatentwalkError, PathLike, atomic_dir, method_files, read_csv, read_parquet
from latentwalk.core.latents import label_text, latent_matrix, read_latents
from latentwalk.core.logs import Log, quiet
from latentwalk.core.registry import MAP_WALKS, PAIR_INTERPOLATIONS, PRIOR_WALK, Run, walk_figures
from latentwalk.figures.along_paths import (
    digit_quality_figure,
    line_quality_figure,
    path_norm_figure,
    view_quality_figure,
)
from latentwalk.figures.decoded import (
    decoded_grid_figure,
    image_rows_figure,
    magnification_figure,
    spiral_animation,
    spiral_figure,
)
from latentwalk.figures.diagnostics import plot_run
from latentwalk.figures.style import save_figure
from latentwalk.walks.pathset import on_shared_pairs, shared_pairs

__all__ = ["Walks", "load_walk", "TRAVERSAL_ROWS", "WALK_DRAWERS", "plot_path_measures", "plot_walks"]


@dataclass
class Walks:
    """A run's decoded walks: per method, the path table (sorted by path and step) and images ``(paths, steps, H, W, C)``."""

    run: str
    tables: dict[str, pd.DataFrame]
    images: dict[str, np.ndarray]
    strip_pairs: int
    fps: int
    label_names: list[str] | None = None  # class names by id (views' objects, an image source's class folders)
    codes: np.ndarray | None = None  # the encoded test means (n, d)
    magnification: dict[str, np.ndarray] | None = None  # rule decoder_paths' map (walks.geodesic.magnification_map)


def load_walk(table: PathLike, decoded: PathLike) -> tuple[pd.DataFrame, np.ndarray]:
    """A path table (sorted by path and step) and its decoded images, checked to match."""
    frame = read_parquet(table)[0].sort_values(["path_id", "step"], kind="stable", ignore_index=True)
    with np.load(decoded) as handle:
        images = handle["images"]
    if len(frame) != images.shape[0] * images.shape[1]:
        raise LatentwalkError(f"{table} has {len(frame)} points but {decoded} holds {images.shape[0]}x{images.shape[1]} frames")
    return frame, images


def _first(frame: pd.DataFrame, path_id: int, column: str) -> Any:
    """``column``'s value in the first row of path ``path_id``."""
    values = frame.loc[frame["path_id"] == path_id, column]
    if values.empty:
        raise LatentwalkError(f"no row of path {path_id} for column {column!r}")
    return values.iloc[0]


def _paths(frame: pd.DataFrame) -> list[int]:
    """The table's path ids, ascending."""
    return [int(p) for p in np.unique(frame["path_id"])]


def _t_labels(steps: int) -> list[str]:
    return [f"{k / (steps - 1):.2g}" for k in range(steps)]


# --------------------------------------------------------------------------- traversal rows


Rows = tuple[list[np.ndarray], list[str], str, list[str] | None, str]


def _axis_rows(run: str, frame: pd.DataFrame, images: np.ndarray) -> Rows:
    ids = _paths(frame)
    labels = [f"z_{int(_first(frame, p, 'dim'))}" for p in ids]
    cols = [f"{x:+.2g}" for x in frame["delta"][frame["path_id"] == ids[0]]]
    return list(images), labels, f"{run}: one latent coordinate at a time", cols, "δ added to the coordinate"


def _pca_rows(run: str, frame: pd.DataFrame, images: np.ndarray) -> Rows:
    ids = _paths(frame)
    labels = [f"PC{int(_first(frame, p, 'component')) + 1} (σ={_first(frame, p, 'component_std'):.2g})" for p in ids]
    cols = [f"{x:+.2g}" for x in frame["delta"][frame["path_id"] == ids[0]]]
    return list(images), labels, f"{run}: along the principal directions of the encoded means", cols, "δ (standard deviations)"


def _attribute_rows(run: str, frame: pd.DataFrame, images: np.ndarray) -> Rows:
    ids = _paths(frame)
    labels = [f"+α(μ{int(_first(frame, p, 'class_a'))} − μ{int(_first(frame, p, 'class_b'))}) from #{int(_first(frame, p, 'index_start'))}"
              for p in ids]
    cols = [f"{x:.2g}" for x in frame["alpha"][frame["path_id"] == ids[0]]]
    return list(images), labels, f"{run}: latent arithmetic z + α (mean(A) − mean(B))", cols, "α"


def _sphere_spiral_rows(run: str, frame: pd.DataFrame, images: np.ndarray, per_row: int = 24, n_rows: int = 3) -> Rows:
    walk = images[0]
    pick = np.linspace(0, len(walk) - 1, per_row * n_rows).round().astype(int)
    rows = [walk[pick[k * per_row : (k + 1) * per_row]] for k in range(n_rows)]
    t = frame["t"].to_numpy()
    labels = [f"t {t[pick[k * per_row]]:.2f}–{t[pick[(k + 1) * per_row - 1]]:.2f}" for k in range(n_rows)]
    radius = float(frame["radius"].iloc[0])
    return rows, labels, f"{run}: spiral on the sphere |z| = {radius:.3g}, read left to right", None, ""


#: Traversal method -> its rows, row labels, title, column labels and column title; keys = the registry's traversals.
TRAVERSAL_ROWS: dict[str, Callable[[str, pd.DataFrame, np.ndarray], Rows]] = {
    "traverse_axis": _axis_rows,
    "traverse_pca": _pca_rows,
    "attribute": _attribute_rows,
    "sphere_spiral": _sphere_spiral_rows,
}


# --------------------------------------------------------------------------- one function per figure


def _save(fig: Any, out: Path, name: str) -> None:
    """PNG only: a walk figure's content is decoded images (an SVG would only wrap the same raster)."""
    save_figure(fig, out / f"{name}.png")


def _grid(walks: Walks, out: Path) -> str:

    frame, images = walks.tables["grid"], walks.images["grid"]
    u = frame["u"][frame["path_id"] == frame["path_id"].iloc[0]].to_numpy()
    v = frame["v"].to_numpy()[np.unique(frame["path_id"], return_index=True)[1]]  # each path's first row: sorted by path
    coordinates = str(frame["coordinates"].iloc[0])
    n = images.shape[0]
    where = "latent plane" if coordinates == "latent" else "top-2 PC plane through the latent mean"
    _save(decoded_grid_figure(images, u, v, coordinates, f"{walks.run}: decoded {n}x{n} grid over the {where}"), out, "grid")
    return f"grid {n}x{n} ({coordinates})"


def _length_note(frame: pd.DataFrame, path_id: int) -> str:
    """' (length 4.15 vs line 4.55)' for a path with a dense decoded length, prefixed ' NOT SHORTER' when it is
    flagged; else ''."""
    if "dense_length" not in frame:
        return ""
    length, line = _first(frame, path_id, "dense_length"), _first(frame, path_id, "line_dense_length")
    return f"{' NOT SHORTER' if _first(frame, path_id, 'not_shorter') else ''} (length {length:.3g} vs line {line:.3g})"


def _interpolation_strips(walks: Walks, out: Path) -> str:
    """One row per (pair, method): lerp / slerp / lerp_matched / geodesic of the same pair adjacent."""

    order = [m for m in PAIR_INTERPOLATIONS if m in walks.tables]
    pairs = [int(p) for p in np.unique(walks.tables[order[0]]["pair"])][: walks.strip_pairs]
    rows, labels = [], []
    for pair in pairs:
        for method in order:
            frame = walks.tables[method]
            ids = np.unique(frame["path_id"][frame["pair"] == pair])
            if len(ids) == 0:
                continue
            pid = int(ids[0])
            rows.append(walks.images[method][pid])
            ends = "→".join(label_text(_first(frame, pid, f"label_{end}"), walks.label_names) for end in "ab")
            labels.append(f"pair {pair} ({ends}) {method}" + _length_note(frame, pid))
    steps = max(len(r) for r in rows)
    fig = image_rows_figure(rows, labels, f"{walks.run}: interpolations between encoded test pairs (endpoints framed)",
                            col_labels=_t_labels(steps), col_title="t", mark_ends=True, group_size=len(order))
    _save(fig, out, "interpolation_strips")
    return f"{len(rows)} strips ({len(pairs)} pairs x {order})"


def _prior_pair_strips(walks: Walks, out: Path) -> str:
    """Prior pairs (endpoints on the sqrt(d) sphere): one row per variant for each pair."""

    frame, images = walks.tables[PRIOR_WALK], walks.images[PRIOR_WALK]
    rows, labels = [], []
    variants = list(pd.unique(frame["variant"]))
    for pair in [int(p) for p in np.unique(frame["pair"])][: walks.strip_pairs]:
        for variant in variants:
            pid = int(frame.loc[(frame["pair"] == pair) & (frame["variant"] == variant), "path_id"].iloc[0])
            rows.append(images[pid])
            labels.append(f"prior pair {pair} {variant}")
    d = sum(1 for c in frame if c.startswith("z_"))
    fig = image_rows_figure(rows, labels, f"{walks.run}: walks between N(0, I) samples scaled to |z| = √{d}",
                            col_labels=_t_labels(images.shape[1]), col_title="t", mark_ends=True, group_size=len(variants))
    _save(fig, out, "prior_pair_strips")
    return f"{len(rows)} prior-pair strips"


def _traversal(method: str) -> Callable[[Walks, Path], str]:
    """The figure of one traversal method: its rows from :data:`TRAVERSAL_ROWS`, drawn as image rows."""

    def draw(walks: Walks, out: Path) -> str:

        rows, labels, title, cols, col_title = TRAVERSAL_ROWS[method](walks.run, walks.tables[method], walks.images[method])
        _save(image_rows_figure(rows, labels, title, col_labels=cols, col_title=col_title), out, method)
        return f"{method}: {len(rows)} rows"

    return draw


def _spiral(walks: Walks, out: Path) -> str:
    """The 2-D spiral walk (figure) and its animation (GIF, one frame per step)."""

    frame, images = walks.tables["spiral"], walks.images["spiral"]
    xy = np.column_stack([frame["z_0"], frame["z_1"]])
    title = f"{walks.run}: spiral walk x(t) = (0.2t − 2) sin t, y(t) = (0.2t − 2) cos t"
    _save(spiral_figure(xy, frame["t"].to_numpy(), images[0], title), out, "spiral")
    n = spiral_animation(xy, images[0], out / "spiral.gif", f"{walks.run}: spiral walk", walks.fps)
    return f"spiral figure and {n}-frame GIF"


def _magnification(walks: Walks, out: Path) -> str:
    """The decoder's area element over the plane of the map, with the encoded points and the lerp and geodesic
    paths projected on it."""
    grid = walks.magnification
    if grid is None or walks.codes is None:
        raise LatentwalkError(f"{walks.run}: no magnification map (rule decoder_paths writes it with the geodesics)")
    d = walks.codes.shape[1]
    project = (lambda z: (np.asarray(z, dtype=np.float64) - grid["origin"]) @ grid["basis"])
    paths = {}
    shared = shared_pairs([walks.tables[m] for m in MAP_WALKS if m in walks.tables])  # the geodesics' pairs
    for method in MAP_WALKS:
        if method in walks.tables:
            table = walks.tables[method]
            table = table[on_shared_pairs(table, shared)] if "index_a" in table.columns else table
            z = table[[f"z_{i}" for i in range(d)]].to_numpy()
            paths[method] = project(z).reshape(table["path_id"].nunique(), -1, 2)
    axes = ("z_0", "z_1") if d == 2 else ("PC 1", "PC 2")
    fig = magnification_figure(grid, project(walks.codes), paths, axes,
                               f"{walks.run}: the decoder's magnification sqrt(det(JᵀJ)) on the {'latent' if d == 2 else 'top-2 PC'} plane")
    _save(fig, out, "magnification")
    return "magnification map: " + ", ".join(f"{len(tracks)} {method}" for method, tracks in paths.items())


#: Walk figure -> the function drawing it into a directory; keys = the registry's walk figures.
WALK_DRAWERS: dict[str, Callable[[Walks, Path], str]] = {
    "grid": _grid,
    "interpolation_strips": _interpolation_strips,
    "prior_pair_strips": _prior_pair_strips,
    **{method: _traversal(method) for method in TRAVERSAL_ROWS},
    "spiral": _spiral,
    "magnification": _magnification,
}


def plot_path_measures(run: str, inputs: Mapping[str, PathLike], out: Mapping[str, PathLike], log: Log = quiet) -> None:
    """The norm along the interpolation paths and the quality along them (digit, line or view scoring, as the
    table's columns say), from ``inputs`` ``path_norms``, ``quality`` and ``quality_summary`` (the run's path
    statistics); ``out`` maps ``path_norms_png`` / ``_svg`` and ``path_quality_png`` / ``_svg`` to files."""
    norms = read_csv(inputs["path_norms"])
    save_figure(path_norm_figure(norms, Run.parse(run).dim, f"{run}: norm along interpolation paths"),
                out["path_norms_png"], out["path_norms_svg"])
    log(f"path norms: {norms['method'].nunique()} methods")
    quality, summary = read_csv(inputs["quality"]), read_csv(inputs["quality_summary"])
    if "view_distance" in quality.columns:
        fig = view_quality_figure(quality, summary, f"{run}: distance to the nearest true view, smoothness, identity")
    elif "line_distance" in quality.columns:
        fig = line_quality_figure(quality, summary, f"{run}: distance to the nearest true line and smoothness")
    else:
        fig = digit_quality_figure(quality, summary, f"{run}: classifier confidence and distance to the data")
    save_figure(fig, out["path_quality_png"], out["path_quality_svg"])
    log("quality along paths")


def plot_walks(run: str, methods: Sequence[str], inputs: Mapping[str, PathLike], settings: Mapping[str, Any],
               out: Mapping[str, PathLike], log: Log = quiet) -> list[str]:
    """Draw every figure of one run; return the names of the walk figures.

    ``inputs``, ``settings`` and ``out`` are rule plot_walks' inputs, params and outputs. The model's diagnostics
    (the training curves from ``inputs['history']``, the scatter of the test latents of ``inputs['latents']`` with
    ``settings['scatter']``'s ``max_points``, ``projection`` and ``seed``: :func:`latentwalk.figures.diagnostics.plot_run`)
    go to the files in ``out``; the walk figures (from ``inputs['paths']`` and ``inputs['decoded']``, with
    ``settings['strip_pairs']`` and ``settings['fps']``) into the directory ``out['walks']`` (PNG each, and the
    spiral's GIF), which appears whole or not at all; the norm and quality along the paths to the files in ``out``
    (:func:`plot_path_measures`).
    """
    scatter = settings["scatter"]
    plot_run(run, inputs["history"], inputs["latents"], int(scatter["max_points"]), str(scatter["projection"]),
             int(scatter["seed"]), out, log)
    tables, images = {}, {}
    for method, table, npz in zip(methods, method_files(inputs["paths"], methods, ".parquet"),
                                  method_files(inputs["decoded"], methods, ".npz")):
        tables[method], images[method] = load_walk(table, npz)
    latent_table, meta = read_latents(inputs["latents"])
    test = latent_table[latent_table["split"].astype(str) == "test"]
    codes = latent_matrix(test)
    grid = None
    if inputs.get("made") and Path(inputs["made"], "magnification.npz").exists():
        with np.load(Path(inputs["made"], "magnification.npz")) as handle:
            grid = {key: handle[key] for key in handle.files}
    walks = Walks(run, tables, images, int(settings["strip_pairs"]), int(settings["fps"]), meta.get("label_names"), codes,
                  grid)
    names = walk_figures(list(methods))
    with atomic_dir(out["walks"]) as tmp:
        for name in names:
            log(WALK_DRAWERS[name](walks, Path(tmp)))
    plot_path_measures(run, inputs, out, log)
    return names
