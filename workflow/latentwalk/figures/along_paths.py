"""Figures of measurements along a run's walks: norms against the prior's shell, and interpolation quality.

Pure functions over a run's ``path_norms.csv`` / ``path_quality.csv`` tables (DataFrames);
one colour per interpolation (the variant for prior pairs, dashed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from latentwalk.core.registry import BASELINES, PAIR_INTERPOLATIONS, PRIOR_WALK
from latentwalk.figures.style import SERIES, bottom_legend, empty_panel, finish, new_subplots
from latentwalk.measure.norms import shell_bounds

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["path_norm_figure", "line_quality_figure", "digit_quality_figure", "view_quality_figure"]

_WALK_COLOUR = {**{name: SERIES[i] for i, name in enumerate(PAIR_INTERPOLATIONS)},
                **dict(zip(BASELINES, ("#333333", "#999999")))}


def _walk_key(method: str, walk: str) -> tuple[str, str]:
    return str(method), str(walk)


def _walk_label(key: tuple[str, str], notes: dict[str, str] | None = None) -> str:
    method, walk = key
    return f"prior {walk}" if method == PRIOR_WALK else method + (notes or {}).get(method, "")


def length_notes(summary: pd.DataFrame) -> dict[str, str]:
    """Per walk with dense decoded lengths (the geodesic): its mean dense decoded length against its straight lines'
    and the ratio, ' (length 4.15 vs line 4.55, 0.91×)', with the count of paths that are not shorter than their
    straight line when there are any."""
    if "dense_length" not in summary.columns:
        return {}
    notes = {}
    for row in summary.dropna(subset=["dense_length"]).itertuples():
        flagged = f", {int(row.not_shorter)} NOT shorter" if row.not_shorter else ""
        notes[str(row.method)] = (f" (length {row.dense_length:.3g} vs line {row.line_dense_length:.3g}, "
                                  f"{row.length_ratio:.2f}×{flagged})")
    return notes


def _walk_style(key: tuple[str, str]) -> dict[str, Any]:
    """Colour by interpolation (the variant for prior pairs); prior pairs dashed."""
    method, walk = key
    name = walk if method == PRIOR_WALK else method
    colour = _WALK_COLOUR.get(name, SERIES[4 + sum(map(ord, name)) % 2])
    return {"color": colour, "linestyle": "--" if method == PRIOR_WALK else ":" if method in BASELINES else "-"}


def _interpolation_keys(table: pd.DataFrame, require_t: bool = True) -> list[tuple[str, str]]:
    """(method, walk) of the pairwise interpolations present, encoded first, then prior pairs.

    Encoded walks are methods in :data:`PAIR_INTERPOLATIONS`; prior-pair walks are the
    variants of ``prior_pairs``. With ``require_t`` a walk needs some non-null ``t``.
    """
    if table.empty or "method" not in table.columns:
        return []
    walk = table["walk"] if "walk" in table.columns else table["method"]
    present = pd.DataFrame({"method": table["method"].astype(str), "walk": walk.astype(str)})
    if require_t:
        if "t" not in table.columns:
            return []
        present = present[table["t"].notna().to_numpy()]
    pairs = set(map(tuple, present.drop_duplicates().to_numpy().tolist()))
    keys = [(m, m) for m in (*PAIR_INTERPOLATIONS, *BASELINES) if (m, m) in pairs]
    keys += [(PRIOR_WALK, w) for w in PAIR_INTERPOLATIONS if (PRIOR_WALK, w) in pairs]
    # prior-pair variants outside the known list, in a stable order
    keys += sorted(k for k in pairs if k[0] == PRIOR_WALK and k[1] not in PAIR_INTERPOLATIONS)
    return [_walk_key(*k) for k in keys]


def _select(table: pd.DataFrame, key: tuple[str, str]) -> pd.DataFrame:
    method, walk = key
    sel = table["method"].astype(str) == method
    if "walk" in table.columns:
        sel &= table["walk"].astype(str) == walk
    return table[sel]


def _mean_by_t(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    """Mean (and count) of ``column`` at each t (rounded to 1e-9), over paths: columns ``t`` (ascending), ``mean``,
    ``count``. Each mean is the plain sum in row order over the count."""
    rows = rows[rows["t"].notna() & rows[column].notna()]
    t, inverse = np.unique(rows["t"].to_numpy(dtype=np.float64).round(9), return_inverse=True)
    count = np.bincount(inverse, minlength=len(t))
    total = np.bincount(inverse, weights=rows[column].to_numpy(dtype=np.float64), minlength=len(t))
    return pd.DataFrame({"t": t, "mean": total / np.maximum(count, 1), "count": count})


def _path_groups(rows: pd.DataFrame) -> list[pd.DataFrame]:
    """One table per path (ascending path id), in step order (t order without steps)."""
    if "path_id" not in rows.columns:
        return [rows.sort_values("t", kind="stable")]
    key = "step" if "step" in rows.columns else "t"
    return [group.sort_values(key, kind="stable") for _, group in rows.groupby("path_id", sort=True)]


def path_norm_figure(norms: pd.DataFrame, dim: int, title: str) -> Figure:
    """|z| along the interpolations of one run against the prior's chi(d) shell.

    From a run's ``path_norms.csv``: one panel for encoded pairs (methods lerp,
    slerp, lerp_matched, geodesic) and, when present, one for prior pairs
    (method ``prior_pairs``, one walk per variant). Each path is a thin
    translucent line, the per-step mean over paths a thick one, one SERIES
    colour per walk. The chi(d) typical shell [shell_lo, shell_hi] is shaded;
    sqrt(d) (the prior's typical radius) and sqrt(d/2) (a lerp midpoint between
    orthogonal endpoints of norm sqrt(d)) are reference lines. Absent walks are left out.
    """
    keys = _interpolation_keys(norms)
    encoded = [k for k in keys if k[0] != PRIOR_WALK]
    prior = [k for k in keys if k[0] == PRIOR_WALK]
    groups = [(f"Encoded pairs (d = {dim})", encoded)] if encoded or not prior else []
    if prior:
        groups.append((f"Prior pairs, endpoints at |z| = √d (d = {dim})", prior))
    if {"shell_lo", "shell_hi"} <= set(norms.columns) and norms["shell_lo"].notna().any():
        lo, hi = float(norms["shell_lo"].dropna().iloc[0]), float(norms["shell_hi"].dropna().iloc[0])
    else:
        lo, hi = shell_bounds(int(dim))
    fig, axes = new_subplots(1, len(groups), figsize=(5.6 * len(groups), 4.2), squeeze=False, sharey=True, layout="constrained")
    y_top = hi
    handles: dict[str, Any] = {}
    for ax, (panel_title, panel_keys) in zip(axes[0], groups):
        ax.axhspan(lo, hi, color="0.85", alpha=0.6, linewidth=0, zorder=0)
        ax.axhline(np.sqrt(dim), color="black", linestyle="--", linewidth=1.0, zorder=1)
        ax.axhline(np.sqrt(dim / 2.0), color="black", linestyle=":", linewidth=1.0, zorder=1)
        if not panel_keys:
            empty_panel(ax, "no interpolation paths in this table")
        for key in panel_keys:
            rows = _select(norms, key)
            rows = rows[rows["t"].notna()]
            colour = _walk_style(key)["color"]
            for path in _path_groups(rows):
                ax.plot(path["t"], path["norm"], color=colour, linewidth=0.7, alpha=0.3, zorder=2)
            mean = _mean_by_t(rows, "norm")
            label = _walk_label(key) if key[0] != PRIOR_WALK else key[1]
            # lerp_matched's mean norm lies on slerp's for prior pairs: dash it so both stay visible
            dash = (0, (4, 2.5)) if label == "lerp_matched" else "-"
            ax.plot(mean["t"], mean["mean"], color=colour, linewidth=2.4, linestyle=dash, zorder=3)
            handles.setdefault(label, Line2D([], [], color=colour, linewidth=2.4, linestyle=dash))
            if rows["norm"].notna().any():
                y_top = max(y_top, float(rows["norm"].max()))
        ax.set_xlabel("interpolation parameter $t$")
        ax.set_title(panel_title)
        ax.set_xlim(0.0, 1.0)
    axes[0, 0].set_ylabel("latent norm |z|")
    axes[0, 0].set_ylim(0.0, 1.08 * y_top)
    names = list(handles)
    refs = [
        Patch(color="0.85", alpha=0.6),
        Line2D([], [], color="black", linestyle="--", linewidth=1.0),
        Line2D([], [], color="black", linestyle=":", linewidth=1.0),
    ]
    ref_labels = [f"χ(d) 99% shell [{lo:.2f}, {hi:.2f}]", f"√d = {np.sqrt(dim):.2f}", f"√(d/2) = {np.sqrt(dim / 2):.2f}"]
    all_handles = [handles[k] for k in names] + refs
    ncol = min(len(all_handles), 4 if len(groups) == 1 else 7)
    bottom_legend(fig, all_handles, names + ref_labels, ncol=ncol)
    return finish(fig, title)


# --------------------------------------------------------------------------- 7./8. quality


def _quality_lines(ax: Axes, quality: pd.DataFrame, keys: Sequence[tuple[str, str]], column: str,
                   notes: dict[str, str] | None = None) -> dict[str, Any]:
    """Mean of ``column`` over paths at each t, one line per walk; returns label -> handle."""
    handles: dict[str, Any] = {}
    for key in keys:
        rows = _select(quality, key)
        if column not in rows.columns:
            continue
        mean = _mean_by_t(rows, column)
        if mean.empty:
            continue
        style = _walk_style(key)
        if key[0] == PRIOR_WALK:  # prior pairs: dashed with hollow markers
            style.update(marker="o", markersize=4, markerfacecolor="white", markeredgecolor=style["color"])
        else:
            style.update(marker="o", markersize=3)
        (line,) = ax.plot(mean["t"], mean["mean"], linewidth=1.8, **style)
        handles[_walk_label(key, notes)] = line
    ax.set_xlabel("interpolation parameter $t$")
    ax.set_xlim(0.0, 1.0)
    return handles


def _summary_bars(ax: Axes, summary: pd.DataFrame, keys: Sequence[tuple[str, str]], column: str, xlabel: str, title: str,
                  notes: dict[str, str] | None = None, beside: list[str] | None = None) -> list[str]:
    """Horizontal bars of one summary column per walk (prior pairs hatched), labelled with their values; returns
    the walks' labels, top to bottom. A panel whose walks are ``beside`` (the panel to its left) shows no labels of
    its own: its bars sit on the rows of that panel's."""
    values, colours, hatches, labels = [], [], [], []
    for key in keys:
        rows = _select(summary, key)
        if rows.empty or column not in rows.columns:
            continue
        values.append(float(rows[column].iloc[0]))
        style = _walk_style(key)
        colours.append(style["color"])
        hatches.append("///" if key[0] == PRIOR_WALK else "")
        labels.append(_walk_label(key, notes))
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    if not values:
        empty_panel(ax, f"no '{column}' in the summary")
        return labels
    y = np.arange(len(values))
    bars = ax.barh(y, np.nan_to_num(values), color=colours, alpha=0.85, edgecolor="white", linewidth=0.5)
    for bar, hatch in zip(bars, hatches):
        bar.set_hatch(hatch)
    ax.set_yticks(y, labels)
    if labels == beside:
        ax.tick_params(axis="y", labelleft=False)
    ax.invert_yaxis()
    finite = np.asarray(values)[np.isfinite(values)]
    right = float(finite.max()) if finite.size else 1.0
    ax.set_xlim(min(0.0, float(finite.min(initial=0.0))), right * 1.3 if right > 0 else 1.0)
    for yi, v in zip(y, values):
        ax.text(max(v, 0.0) if np.isfinite(v) else 0.0, yi, f" {v:.3g}", va="center", ha="left", fontsize=8)
    ax.grid(axis="y", visible=False)
    return labels


def _distance_panel(ax: Axes, quality: pd.DataFrame, keys: Sequence[tuple[str, str]], column: str,
                    notes: dict[str, str], empty: str, ylabel: str, title: str) -> dict[str, Any]:
    """A distance-to-the-truth panel: ``column`` along t per walk from 0 up (or ``empty`` when there is no line)."""
    handles = _quality_lines(ax, quality, keys, column, notes)
    if not handles:
        empty_panel(ax, empty)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0.0)
    ax.set_title(title)
    return handles


def line_quality_figure(quality: pd.DataFrame, summary: pd.DataFrame, title: str) -> Figure:
    """Line benchmark: distance to the nearest true line along t, and Mean Distance / Smoothness per walk.

    Left: the cosine distance of each decoded frame to its nearest reference line,
    averaged over paths at each t, one line per pairwise interpolation present
    (lerp, slerp, lerp_matched, geodesic; prior-pair variants dashed). Right: two
    bar panels with the run's Mean Distance and Smoothness (``path_quality_summary.csv``)
    for the same walks; lower is better for both.
    """
    keys = _interpolation_keys(quality)
    notes = length_notes(summary)
    fig, axes = new_subplots(1, 3, figsize=(14, 4.4), gridspec_kw={"width_ratios": (1.6, 1.0, 1.0)}, layout="constrained")
    handles = _distance_panel(axes[0], quality, keys, "line_distance", notes, "no interpolation paths with a t value",
                              "cosine distance to nearest line", "Distance to the nearest true line (mean over paths)")
    walks = _summary_bars(axes[1], summary, keys, "mean_distance", "Mean Distance (lower is better)", "Mean Distance per walk", notes)
    _summary_bars(axes[2], summary, keys, "smoothness", "Smoothness (lower is better,\n0 = even steps)", "Smoothness per walk", notes,
                  beside=walks)
    if handles:
        bottom_legend(fig, list(handles.values()), list(handles), ncol=min(len(handles), 7))
    return finish(fig, title)


def digit_quality_figure(quality: pd.DataFrame, summary: pd.DataFrame, title: str) -> Figure:
    """Digit runs: classifier confidence and nearest-training-image distance along t, midpoint entropy per walk.

    Left and middle: the classifier's max probability and the Euclidean pixel
    distance to the nearest training image, each averaged over paths at every t,
    one line per pairwise interpolation present (prior-pair variants dashed).
    Right: the entropy of the classifier's prediction at the midpoint
    (``entropy_mid`` of ``path_quality_summary.csv``) per walk as bars.
    """
    keys = _interpolation_keys(quality)
    notes = length_notes(summary)
    fig, axes = new_subplots(1, 3, figsize=(14, 4.4), gridspec_kw={"width_ratios": (1.25, 1.25, 1.0)}, layout="constrained")
    handles = _quality_lines(axes[0], quality, keys, "confidence", notes)
    axes[0].set_ylabel("classifier confidence (max probability)")
    axes[0].set_title("Classifier confidence (mean over paths)")
    handles.update(_quality_lines(axes[1], quality, keys, "nn_distance", notes))
    axes[1].set_ylabel("L2 pixel distance to nearest training image")
    axes[1].set_title("Nearest training image (mean over paths)")
    if not handles:
        for ax in axes[:2]:
            empty_panel(ax, "no interpolation paths with a t value")
    else:
        lo = float(np.nanmin([line.get_ydata().min() for line in axes[0].get_lines()]))
        axes[0].set_ylim(max(0.0, min(lo, 1.0) - 0.05), 1.0)
    _summary_bars(axes[2], summary, keys, "entropy_mid", "entropy at the midpoint (nats)", "Prediction entropy at t = 0.5", notes)
    if handles:
        bottom_legend(fig, list(handles.values()), list(handles), ncol=min(len(handles), 7))
    return finish(fig, title)


def view_quality_figure(quality: pd.DataFrame, summary: pd.DataFrame, title: str) -> Figure:
    """Views: distance to the nearest true view along t, and Mean Distance / Smoothness / identity drift per walk.

    Left: the cosine distance of each decoded frame of a path between two views of one object to its nearest
    reference render, averaged over paths at each t, one line per pairwise interpolation present and the pixel
    cross-fade baseline (dotted grey). Right: the run's Mean Distance, Smoothness and identity drift (the share of
    frames nearest to another object) per walk (``path_quality_summary.csv``); lower is better for all three.
    """
    same = quality[quality["same_object"].astype(bool)] if "same_object" in quality.columns else quality.iloc[:0]
    keys = _interpolation_keys(quality)
    notes = length_notes(summary)
    fig, axes = new_subplots(1, 4, figsize=(17, 4.4), gridspec_kw={"width_ratios": (1.5, 1.0, 1.0, 1.0)},
                             layout="constrained")
    handles = _distance_panel(axes[0], same, keys, "view_distance", notes, "no paths between two views of one object",
                              "cosine distance to the nearest true view", "Distance to the nearest true view (same object)")
    walks = _summary_bars(axes[1], summary, keys, "mean_distance", "Mean Distance (lower is better)", "Mean Distance per walk", notes)
    walks = _summary_bars(axes[2], summary, keys, "smoothness", "Smoothness of the azimuth (0 = even)", "Smoothness per walk", notes,
                          beside=walks)
    _summary_bars(axes[3], summary, keys, "identity_drift", "share of frames nearest another object", "Identity drift", notes,
                  beside=walks)
    if handles:
        bottom_legend(fig, list(handles.values()), list(handles), ncol=min(len(handles), 7))
    return finish(fig, title)
