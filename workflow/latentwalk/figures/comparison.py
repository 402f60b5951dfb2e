"""The sweep comparison figure: every run of one dataset side by side, against latent dim and against KL weight.

A pure function over the rows of ``results/stats/runs.csv`` (one per run; see
:func:`latentwalk.measure.summary.compare_runs`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import FormatStrFormatter, LogLocator, MaxNLocator, NullFormatter

from latentwalk.core.io import LatentwalkError, PathLike, read_csv
from latentwalk.core.logs import Log, quiet
from latentwalk.core.registry import METHODS, PAIR_INTERPOLATIONS, QUALITY_COLUMNS
from latentwalk.figures.style import PALETTE, SERIES, empty_panel, finish, new_subplots, save_figure

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["comparison_figure", "acai_benchmark_figure", "acai_curve_figure", "plot_comparison"]

#: The measurements of the first and last rows: column -> panel title.
_MEASURES = {
    "test_reconstruction": "held-out reconstruction (nats/image)",
    "test_kl": "held-out KL (nats/image)",
    "active_dims": "active latent dims",
    "outside_shell_lerp": "lerp steps outside the shell",
}
_QUALITY_TITLE = {"mean_distance": "Mean Distance (lower: better)", "confidence": "classifier confidence (higher: better)"}


def _colours(values: list[Any]) -> dict[Any, str]:
    palette = SERIES + PALETTE
    return {value: palette[i % len(palette)] for i, value in enumerate(values)}


def _lines(ax: Axes, table: pd.DataFrame, x: str, by: str, y: str, colours: dict[Any, str]) -> bool:
    """One line per value of ``by`` (markers on every run); False when the column has no finite value."""
    drawn = False
    for key in pd.unique(table[by]):
        group = table[table[by] == key].sort_values(x, kind="stable")
        values = np.asarray(group[y], dtype=float)
        if np.isfinite(values).any():
            ax.plot(group[x], values, "o-", color=colours[key], markersize=4, linewidth=1.4)
            drawn = True
    return drawn


def _dim_axis(ax: Axes, dims: list[int]) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(dims, [str(d) for d in dims])
    ax.minorticks_off()
    ax.set_xlabel("latent dim")


def _beta_axis(ax: Axes, betas: list[float]) -> None:
    ax.set_xscale("symlog", linthresh=1.0)
    ax.set_xticks(betas, [f"{b:g}" for b in betas])
    ax.minorticks_off()
    ax.set_xlabel("KL weight (ae 0, vae 1, beta-VAE β)")


def comparison_figure(table: pd.DataFrame, quality: str, title: str) -> Figure:
    """Three rows of panels over one dataset's runs.

    Top: held-out reconstruction, KL, active latent dims (the diagonal is "every dim active") and the share of lerp
    steps outside the prior's shell, against latent dim, one line per model. Middle: the quality score ``quality``
    (a column stem of ``runs.csv``, e.g. ``mean_distance``) of each pair interpolation (lerp, slerp, lerp_matched,
    geodesic, and geodesic_variance where a run has it) against latent dim, one line per model, on a shared axis. Bottom: the top row's measurements and lerp
    quality against the KL weight (ae 0, vae 1, beta-VAEs their beta), one line per latent dim.
    """
    if table.empty:
        raise LatentwalkError("comparison_figure: the runs table has no rows")
    models = list(pd.unique(table.sort_values(["kl_weight", "model"], kind="stable")["model"]))
    dims = sorted({int(d) for d in table["dim"]})
    betas = sorted({float(b) for b in table["kl_weight"] if np.isfinite(b)})  # an external model has none
    model_colour, dim_colour = _colours(models), _colours(dims)
    # the middle row: every pair interpolation, one outside paths.methods' default only where a run has it
    walked = [m for m in PAIR_INTERPOLATIONS
              if METHODS[m].default or (f"{quality}_{m}" in table and table[f"{quality}_{m}"].notna().any())]
    fig, axes = new_subplots(3, len(walked), figsize=(4 * len(walked), 11), layout="constrained")
    for ax in (*axes[0][len(_MEASURES):], *axes[2][len(_MEASURES):]):
        ax.set_visible(False)
    for ax, (column, name) in zip(axes[0], _MEASURES.items()):
        if not _lines(ax, table, "dim", "model", column, model_colour):
            empty_panel(ax, "not measured")
        ax.set_title(name)
        _dim_axis(ax, dims)
    axes[0][2].plot(dims, dims, ":", color="0.5", linewidth=1)
    for ax in (axes[0][2], axes[2][2]):
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0][3].set_ylim(-0.03, 1.03)
    for ax, method in zip(axes[1], walked):
        column = f"{quality}_{method}"
        drew = column in table and _lines(ax, table, "dim", "model", column, model_colour)
        if not drew:
            empty_panel(ax, f"no {method} paths")
        else:
            _dim_axis(ax, dims)
        ax.set_title(method)
    axes[1][0].set_ylabel(_QUALITY_TITLE.get(quality, quality))
    shared = [ax for ax in axes[1] if ax.has_data()]
    if shared:
        low = min(ax.get_ylim()[0] for ax in shared)
        high = max(ax.get_ylim()[1] for ax in shared)
        for ax in shared:
            ax.set_ylim(low, high)
    bottom = {**{k: v for k, v in _MEASURES.items() if k != "outside_shell_lerp"},
              f"{quality}_lerp": f"lerp: {_QUALITY_TITLE.get(quality, quality)}"}
    for ax, (column, name) in zip(axes[2], bottom.items()):
        if not (column in table and _lines(ax, table, "kl_weight", "dim", column, dim_colour)):
            empty_panel(ax, "not measured")
        ax.set_title(name)
        _beta_axis(ax, betas)
    handles = [Line2D([], [], color=model_colour[m], marker="o", linewidth=1.4) for m in models]
    fig.legend(handles, models, loc="outside right upper", title="model (rows 1-2)", fontsize=9)
    handles = [Line2D([], [], color=dim_colour[d], marker="o", linewidth=1.4) for d in dims]
    fig.legend(handles, [f"z{d}" for d in dims], loc="outside right lower", title="latent dim (row 3)", fontsize=9)
    return finish(fig, title)


def acai_benchmark_figure(table: pd.DataFrame, title: str) -> Figure:
    """Mean Distance (x 1e-3, log scale) and Mean Smoothness per model: ours (mean +- std over seeds) beside the
    paper's Table 1 (mean +- std over its reruns); lower is better in both."""
    fig, axes = new_subplots(1, 2, figsize=(9.5, 3.6), layout="constrained")
    x = np.arange(len(table))
    for ax, column, label in ((axes[0], "mean_distance_e3", "Mean Distance (x 1e-3)"),
                              (axes[1], "smoothness", "Mean Smoothness")):
        ax.bar(x - 0.2, table[column], 0.4, yerr=table[f"{column}_std"], color=SERIES[0], capsize=3, label="ours")
        ax.bar(x + 0.2, table[f"paper_{column}"], 0.4, yerr=table[f"paper_{column}_std"], color=SERIES[1], capsize=3,
               label="paper (Table 1)")
        ax.set_xticks(x, table["label"] if "label" in table else table["model"])
        ax.set_ylabel(label + ", lower: better")
        for i, value in enumerate(table[column]):
            if not np.isfinite(value):  # every path's angle stood still: the benchmark's metric is undefined
                ax.text(i - 0.2, 0.02, "undefined", rotation=90, ha="center", va="bottom", fontsize=8,
                        transform=ax.get_xaxis_transform(), color="0.3")
        if column == "mean_distance_e3":
            ax.set_yscale("log")
            ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
            ax.yaxis.set_major_formatter(FormatStrFormatter("%g"))
            ax.yaxis.set_minor_formatter(NullFormatter())
        ax.legend()
    return finish(fig, title)


def acai_curve_figure(evaluations: pd.DataFrame, table: pd.DataFrame, title: str) -> Figure:
    """Mean Distance (x 1e-3) and Mean Smoothness against samples seen (log axes), per model the mean over seeds
    with a band of one standard deviation (``ddof`` 0), and the paper's Table 1 value as a dashed line in the
    model's colour: how far the budget goes toward the paper."""
    fig, axes = new_subplots(1, 2, figsize=(10.5, 4.4), layout="constrained")
    handles, undefined = [], []
    for i, row in enumerate(table.to_dict("records")):
        colour = SERIES[i % len(SERIES)]
        mine = evaluations[evaluations["model"] == row["model"]]
        for ax, column, scale, paper in ((axes[0], "mean_distance", 1e3, row["paper_mean_distance_e3"]),
                                         (axes[1], "smoothness", 1.0, row["paper_smoothness"])):
            if column == "smoothness":  # undefined where every path of an evaluation stood still
                undefined.append(f"{row['label']} {int(mine[column].notna().sum())}/{len(mine)}")
            by = (mine[column].astype(float) * scale).groupby(mine["samples_seen"])
            mean, std = by.mean(), by.std(ddof=0).fillna(0.0)
            ax.plot(mean.index, mean.to_numpy(), color=colour, lw=1.4, marker=".", ms=3)  # dots: isolated values too
            low = np.maximum((mean - std).to_numpy(), mean.to_numpy() * 1e-3)  # both metrics are >= 0
            ax.fill_between(mean.index, low, (mean + std).to_numpy(), color=colour, alpha=0.18, lw=0)
            if np.isfinite(paper):
                ax.axhline(paper, color=colour, ls="--", lw=1.0)
        handles.append(Line2D([], [], color=colour, lw=1.4, label=f"{row['label']} ({row['seeds']} seeds)"))
    for ax, label in ((axes[0], "Mean Distance (x 1e-3)"), (axes[1], "Mean Smoothness")):
        ax.set_xscale("log")
        ax.set_xlabel("training samples seen")
        ax.set_ylabel(label + ", lower: better")
    axes[0].set_yscale("log")
    axes[0].yaxis.set_major_formatter(FormatStrFormatter("%g"))
    axes[1].set_yscale("symlog", linthresh=1.0)  # a path that barely turns scores far above 1
    axes[1].set_ylim(bottom=0.0)
    axes[1].set_title("evaluations with a defined Smoothness: " + ", ".join(undefined), fontsize=8, color="0.3")
    handles.append(Line2D([], [], color="0.3", ls="--", lw=1.0, label="paper, Table 1 (2^24 samples)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 6), fontsize=8)
    return finish(fig, title)


# --------------------------------------------------------------------------- rule plot_comparison


def plot_comparison(runs_csv: PathLike, scorers: Mapping[str, str], out_dir: PathLike, log: Log = quiet) -> None:
    """Draw the sweep comparison of each dataset's runs (``scorers``: dataset -> its frame scorer, whose headline
    quality column the figure shows) into ``out_dir`` as ``{dataset}.png`` and ``.svg`` (see
    :func:`~latentwalk.figures.comparison.comparison_figure`); the runs table is read once."""
    table = read_csv(runs_csv)
    selected = {}
    for dataset in scorers:  # every dataset checked before any figure is drawn
        mine = table[table["dataset"] == dataset] if "dataset" in table.columns else table.iloc[:0]
        if mine.empty:
            raise LatentwalkError(f"{runs_csv}: no runs of dataset {dataset!r}")
        selected[dataset] = mine
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for dataset, mine in selected.items():
        quality = QUALITY_COLUMNS[scorers[dataset]][0]
        save_figure(comparison_figure(mine, quality, f"{dataset}: {len(mine)} runs side by side"),
                    out / f"{dataset}.png", out / f"{dataset}.svg")
        log(f"comparison of {len(mine)} {dataset} runs")
