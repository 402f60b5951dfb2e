"""Cross-run rules: the summary table (per run and interpolation), one row per run (sweeps) and the report's key
numbers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from latentwalk.core.io import LatentwalkError, PathLike, atomic_path, read_json, write_csv
from latentwalk.core.logs import Log, quiet
from latentwalk.core.registry import (
    BASELINES,
    CLOSED_FORM_INTERPOLATIONS,
    COMPARED,
    DATASETS,
    GEODESICS,
    MODELS,
    PAIR_INTERPOLATIONS,
    PRIOR_WALK,
    QUALITY_COLUMNS,
    Run,
)

__all__ = ["summary", "key_numbers", "compare_runs"]


def summary(runs: Sequence[str], norm_summaries: Sequence[str], quality_summaries: Sequence[str], out_csv: PathLike, log: Log = quiet) -> None:
    """One row per run and compared interpolation: shell exits, midpoint norm ratio and quality; then the run's
    baseline walks (views: the pixel cross-fade), which have quality but no latent norms."""

    rows = []
    for name, norm_csv, quality_csv in zip(runs, norm_summaries, quality_summaries):
        run = Run.parse(name)
        norms = pd.read_csv(norm_csv)
        quality = pd.read_csv(quality_csv)
        merged = norms.merge(quality.drop(columns=["paths"]), on=["method", "walk"], how="left")
        merged = pd.concat([merged[merged["method"].isin(COMPARED)], quality[quality["method"].isin(BASELINES)]],
                           ignore_index=True)
        for column, value in reversed(list(run.columns.items())):
            merged.insert(0, column, value)
        rows.append(merged)
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    keep = [c for c in ("dataset", "model", "kind", "kl_weight", "dim", "method", "walk", "paths", "share_outside_shell", "share_below_shell",
                        "midpoint_ratio", "mean_norm", "shell_lo", "shell_hi", "mean_distance", "mean_distance_mid",
                        "smoothness", "smoothness_undefined", "identity_drift", "cross_distance", "dense_length",
                        "line_dense_length", "length_ratio", "not_shorter", "confidence", "confidence_mid", "entropy_mid",
                        "nn_distance", "nn_distance_mid") if c in table.columns]
    write_csv(table[keep], out_csv)
    log(f"summary: {len(table)} rows over {len(runs)} runs")


def key_numbers(
    inputs: Mapping[str, Any],
    dropped: Sequence[Sequence[str]],
    out_rst: PathLike,
    log: Log = quiet,
) -> None:
    """The headline numbers of the study as reStructuredText, included in the report's introduction.

    ``inputs`` are rule key_numbers' inputs: ``summary``, ``concentration`` and ``hypersphere`` (tables),
    ``classifiers`` (each classifier's JSON) and ``metas`` (each run's ``meta.json``). Also states which runs'
    training was flagged as degenerate and which configured path methods were not applied to which runs, and why
    (``dropped``: (run, method, reason) rows).
    """
    summary_csv, concentration_csv, hypersphere_csv = inputs["summary"], inputs["concentration"], inputs["hypersphere"]
    classifier_jsons, run_metas = list(inputs["classifiers"]), list(inputs["metas"])
    summary = pd.read_csv(summary_csv)
    conc = pd.read_csv(concentration_csv)
    sphere = pd.read_csv(hypersphere_csv)
    lines = ["Key numbers of this run", "-----------------------", ""]
    top = conc.loc[conc["dim"].idxmax()]
    lines.append(
        f"- **Norm concentration**: at d = {int(top['dim'])} the mean of {int(top['n'])} sampled norms is "
        f"{top['mean']:.5f} against the exact χ mean {top['chi_mean']:.5f} (relative error {top['mean_rel_error']:+.1e}); "
        f"the shell's relative width std/mean is {top['relative_width']:.4f} (exact {top['chi_relative_width']:.4f}), "
        f"against {conc.loc[conc['dim'].idxmin(), 'relative_width']:.3f} at d = {int(conc['dim'].min())}."
    )
    peak = sphere.loc[sphere["volume"].idxmax()]
    lines.append(f"- **Hypersphere**: the unit-ball volume peaks at n = {int(peak['n'])} (V = {peak['volume']:.4f}) "
                 f"and is {sphere['volume'].iloc[-1]:.2e} at n = {int(sphere['n'].iloc[-1])}.")
    vae = summary[(summary["method"] == PRIOR_WALK) & summary["kind"].isin([m for m, kind in MODELS.items() if kind.variational])]
    if len(vae):
        d = int(vae["dim"].max())
        rows = vae[vae["dim"] == d].set_index(["dataset", "model", "walk"]).sort_index()
        (dataset, model, _walk) = rows.index[0]
        sel = rows.loc[(dataset, model)]
        parts = []
        for walk in CLOSED_FORM_INTERPOLATIONS:
            if walk in sel.index:
                parts.append(f"{walk} midpoint ratio {sel.loc[walk, 'midpoint_ratio']:.3f}, "
                             f"{sel.loc[walk, 'share_outside_shell']:.0%} of steps outside the shell")
        lines.append(f"- **Prior pairs in {dataset}/{model}-z{d}** (endpoints at √d): " + "; ".join(parts)
                     + " (independent endpoints put lerp's midpoint at 1/√2 ≈ 0.707 of √d).")
    line_data = [name for name, ds in DATASETS.items() if ds.scorer in ("lines", "views")]
    quality = summary[summary["dataset"].isin(line_data) & summary["method"].isin((*PAIR_INTERPOLATIONS, *BASELINES))]
    for (dataset, model, dim), group in quality.groupby(["dataset", "model", "dim"], sort=True):
        cells = ", ".join(f"{r.walk} {r.mean_distance:.4f} / {r.smoothness:.3f}" for r in group.itertuples())
        pairs = sorted({int(n) for n in group["paths"].dropna()})  # one count: every method on the same pairs
        lines.append(f"- **{dataset}/{model}-z{dim}** Mean Distance / Smoothness on the same "
                     f"{' / '.join(map(str, pairs))} endpoint pairs: {cells}.")
    lines += _geodesic_lines(summary)
    for path in classifier_jsons:
        record = read_json(path)
        cfg = record["config"]
        name = Path(path).stem
        lines.append(f"- **Frame classifier for {name}** (MLP, {cfg['hidden']} hidden units, {cfg['max_iter']} epochs): "
                     f"test accuracy {record['test_accuracy']:.4f} on {record['n_test']} held-out images.")
    lines += _training_checks(run_metas) + _dropped_lines(dropped)
    text = "\n".join(lines) + "\n"
    with atomic_path(out_rst) as tmp:
        tmp.write_text(text)
    log(text)


def _geodesic_lines(summary: Any) -> list[str]:
    """How much shorter the geodesics (each metric's) are than their straight lines (dense decoded length), and which
    are not."""
    if "dense_length" not in summary.columns:
        return []
    lines = []
    for method in GEODESICS:
        geo = summary[summary["method"] == method].dropna(subset=["dense_length"])
        if geo.empty:
            continue
        flagged = geo[geo["not_shorter"] > 0]
        text = (f"- **{'Geodesics' if method == 'geodesic' else 'Variance-metric geodesics'}**: "
                f"{int(geo['paths'].sum() - geo['not_shorter'].sum())} of {int(geo['paths'].sum())} paths are shorter "
                f"than their straight line in dense decoded length (mean ratio {geo['length_ratio'].mean():.3f}, "
                f"from {geo['length_ratio'].min():.3f} in {_run_name(geo.loc[geo['length_ratio'].idxmin()])})")
        names = ", ".join(f"{_run_name(row)} ({int(row['not_shorter'])})" for _, row in flagged.iterrows())
        lines.append(text + (f"; **not shorter, flagged**: {names}." if names else "."))
    return lines


def _run_name(row: Any) -> str:
    return f"{row['dataset']}/{row['model']}-z{int(row['dim'])}"


def _training_checks(run_metas: Sequence[str]) -> list[str]:
    """One line on the training check of every run: which were flagged as degenerate, and why."""

    if not run_metas:
        return []
    flagged, external, trained = [], [], 0
    for path in run_metas:
        record = read_json(path)
        if "external" in record:
            external.append(f"- **{record['run']}** (trained elsewhere: {record['external']['encoder_format']} encoder and "
                            f"{record['external']['decoder_format']} decoder): reconstruction MSE per pixel "
                            f"{record['test']['mse']:.4g} on {record['test']['n']} held-out images.")
            continue
        trained += 1
        check = record.get("training_check") or {}
        if check.get("degenerate"):
            flagged.append(f"**{record.get('run', path)}**: {check['reason']}")
    if not trained:
        return external
    if not flagged:
        return [f"- **Training check**: all {trained} runs reconstruct better than the mean image and their "
                "loss fell over the first epochs.", *external]
    return [f"- **Training check: {len(flagged)} of {trained} runs look degenerate**: " + "; ".join(flagged) + ".", *external]


def _dropped_lines(dropped: Sequence[Sequence[str]]) -> list[str]:
    """Which configured path methods were not applied, to which runs, and why (grouped by method and reason)."""
    groups: dict[tuple[str, str], list[str]] = {}
    for run, method, reason in dropped:
        groups.setdefault((method, reason), []).append(run)
    return [f"- **{method} not applied** ({reason}) to {', '.join(runs)}." for (method, reason), runs in groups.items()]


def compare_runs(runs: Sequence[str], scorers: Mapping[str, str], inputs: Mapping[str, Any], out_csv: PathLike,
                 log: Log = quiet) -> None:
    """Put every run side by side: held-out reconstruction and KL, active latent dims, and per pair interpolation
    the share of path steps outside the prior's shell and the quality of the decoded frames.

    ``inputs['metas']`` and ``inputs['encoded_norms']`` are each run's ``meta.json`` and ``encoded_norms.csv``, in
    ``runs`` order; ``inputs['summary']`` is the summary table (per run and method); ``scorers`` names each
    dataset's frame scorer (its quality columns). Writes one row per run to ``out_csv``.
    """
    metas, encoded_norms, summary_csv = list(inputs["metas"]), list(inputs["encoded_norms"]), inputs["summary"]
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
            # an external model's likelihood and prior are unknown: these are NaN for it
            **{f"test_{key}": float("nan") if meta["test"][key] is None else float(meta["test"][key])
               for key in ("reconstruction", "kl", "loss")},
            "degenerate": bool((meta.get("training_check") or {}).get("degenerate", False)),
            "active_dims": int(norms.loc[split, "active_dims"]),
            "encoded_inside_shell": float(norms.loc[split, "share_inside_shell"]),
        }
        mine = summary[(summary["dataset"] == run.dataset) & (summary["model"] == run.model) & (summary["dim"] == run.dim)]
        by_method = mine[mine["method"] == mine["walk"]].set_index("method")
        for method in PAIR_INTERPOLATIONS:
            present = method in by_method.index
            row[f"outside_shell_{method}"] = float(by_method.loc[method, "share_outside_shell"]) if present else float("nan")
            for column in QUALITY_COLUMNS[scorers[run.dataset]]:
                value = by_method.loc[method, column] if present and column in by_method.columns else float("nan")
                row[f"{column}_{method}"] = float(value)
        rows.append(row)
    table = pd.DataFrame(rows)
    write_csv(table, out_csv)
    log(f"compare_runs: {len(table)} runs, {table.shape[1]} columns")
