"""Cross-run stages for sweeps: one row per run (training, latent use, interpolation quality) and its figures."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..io import LatentwalkError, PathLike, read_json, write_csv
from ..logs import Log, quiet
from ..registry import DATASETS, PAIR_INTERPOLATIONS, Run

#: The per-frame quality scores compared across runs, by the dataset's scorer (the first is the headline one).
QUALITY_COLUMNS: dict[str, tuple[str, ...]] = {
    "lines": ("mean_distance", "smoothness"),
    "classifier": ("confidence", "nn_distance"),
    "views": ("mean_distance", "smoothness", "identity_drift"),
}


def compare_runs(
    runs: Sequence[str],
    metas: Sequence[PathLike],
    encoded_norms: Sequence[PathLike],
    summary_csv: PathLike,
    out_csv: PathLike,
    log: Log = quiet,
) -> None:
    """Put every run side by side: held-out reconstruction and KL, active latent dims, and per pair interpolation
    the share of path steps outside the prior's shell and the quality of the decoded frames.

    ``metas`` and ``encoded_norms`` are each run's ``meta.json`` and ``encoded_norms.csv``, in ``runs`` order;
    ``summary_csv`` is the summary table (per run and method). Writes one row per run to ``out_csv``.
    """
    import pandas as pd

    if not len(runs) == len(metas) == len(encoded_norms):
        raise LatentwalkError(f"compare_runs: {len(runs)} runs but {len(metas)} meta files and {len(encoded_norms)} norm tables")
    summary = pd.read_csv(summary_csv)
    rows = []
    for name, meta_json, norms_csv in zip(runs, metas, encoded_norms):
        run = Run.parse(name)
        meta = read_json(meta_json)
        if meta.get("run") != name:
            raise LatentwalkError(f"{meta_json}: records run {meta.get('run')!r}, expected {name!r}")
        norms = pd.read_csv(norms_csv).set_index("split")
        split = "test" if "test" in norms.index else "all"
        if "active_dims" not in norms.columns:
            raise LatentwalkError(f"{norms_csv}: no active_dims column; rerun path_stats for {name}")
        row: dict[str, object] = {
            **run.columns,
            "n_test": int(meta["test"]["n"]),
            "test_reconstruction": float(meta["test"]["reconstruction"]),
            "test_kl": float(meta["test"]["kl"]),
            "test_loss": float(meta["test"]["loss"]),
            "degenerate": bool((meta.get("training_check") or {}).get("degenerate", False)),
            "active_dims": int(norms.loc[split, "active_dims"]),
            "encoded_inside_shell": float(norms.loc[split, "share_inside_shell"]),
        }
        mine = summary[(summary["dataset"] == run.dataset) & (summary["model"] == run.model) & (summary["dim"] == run.dim)]
        by_method = mine[mine["method"] == mine["walk"]].set_index("method")
        for method in PAIR_INTERPOLATIONS:
            present = method in by_method.index
            row[f"outside_shell_{method}"] = float(by_method.loc[method, "share_outside_shell"]) if present else float("nan")
            for column in QUALITY_COLUMNS[DATASETS[run.dataset].scorer]:
                value = by_method.loc[method, column] if present and column in by_method.columns else float("nan")
                row[f"{column}_{method}"] = float(value)
        rows.append(row)
    table = pd.DataFrame(rows)
    write_csv(table, out_csv)
    log(f"compare_runs: {len(table)} runs, {table.shape[1]} columns")


def plot_comparison(runs_csv: PathLike, datasets: Sequence[str], out_dir: PathLike, log: Log = quiet) -> None:
    """Draw the sweep comparison of each dataset's runs into ``out_dir`` as ``{dataset}.png`` and ``.svg`` (see
    :func:`~latentwalk.figures_compare.comparison_figure`); the runs table is read once."""
    from ..columns import n_rows, read_csv_table, take
    from ..figures_compare import comparison_figure
    from ..plots import save_figure

    table = read_csv_table(runs_csv)
    selected = {}
    for dataset in datasets:  # every dataset checked before any figure is drawn
        mine = take(table, table["dataset"] == dataset) if "dataset" in table else {}
        if n_rows(mine) == 0:
            raise LatentwalkError(f"{runs_csv}: no runs of dataset {dataset!r}")
        selected[dataset] = mine
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for dataset, mine in selected.items():
        quality = QUALITY_COLUMNS[DATASETS[dataset].scorer][0]
        save_figure(comparison_figure(mine, quality, f"{dataset}: {n_rows(mine)} runs side by side"),
                    out / f"{dataset}.png", out / f"{dataset}.svg")
        log(f"comparison of {n_rows(mine)} {dataset} runs")
