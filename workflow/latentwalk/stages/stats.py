"""Statistics stages: norm concentration, hypersphere geometry, the digit classifier, per-run path statistics, summary."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..io import LatentwalkError, PathLike, atomic_path, provenance, write_json
from ..logs import Log, quiet

#: Interpolations compared in the summary table (prior pairs are added per variant).
COMPARED = ("lerp", "slerp", "lerp_matched", "geodesic")


def _write_csv(frame: Any, path: PathLike) -> None:
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")


def norm_concentration(
    dims: Sequence[int], n: int, seed: int, chunk_elements: int, bins: int, out_csv: PathLike, out_hist: PathLike, log: Log = quiet
) -> None:
    """Sample N(0, I_d) for each dim (streamed), compare |z| with chi(d); write the table and histograms."""
    from ..stats import norm_concentration as compute
    from ..stats import norm_histograms

    start = time.perf_counter()
    table, samples = compute(dims, n, seed, chunk_elements)
    _write_csv(table, out_csv)
    _write_csv(norm_histograms(samples, bins), out_hist)
    for row in table.itertuples():
        log(f"d={row.dim:5d}  mean |z| {row.mean:.6f} vs chi {row.chi_mean:.6f} ({row.mean_rel_error:+.2e})  "
            f"width {row.relative_width:.4f}  KS {row.ks_distance:.5f}")
    log(f"{len(dims)} dims x {n} samples in {time.perf_counter() - start:.1f}s")


def hypersphere(n_max: int, out_csv: PathLike, log: Log = quiet) -> None:
    """Unit-ball volumes, sphere surfaces, ball-to-cube ratios and Gaussian masses for n = 1..n_max."""
    from ..stats import hypersphere_table

    table = hypersphere_table(n_max)
    _write_csv(table, out_csv)
    top = table.loc[table["volume"].idxmax()]
    log(f"largest unit-ball volume V_{int(top['n'])} = {top['volume']:.6f}")


def train_classifier(data_npz: PathLike, seed: int, hidden: int, max_iter: int, out_npz: PathLike, out_json: PathLike, log: Log = quiet) -> None:
    """Fit the frame-scoring MLP on the train split; record its accuracy on the test split."""
    import numpy as np

    from ..datasets import load_dataset
    from ..io import save_npz
    from ..quality import classifier_probabilities, fit_classifier

    data = load_dataset(data_npz)
    if data.label_kind != "class":
        raise LatentwalkError(f"{data_npz}: a classifier needs class labels, this dataset is labelled by {data.label_kind}")
    train, test = data.split == "train", data.split == "test"
    start = time.perf_counter()
    weights = fit_classifier(data.images[train], data.labels[train], seed, hidden, max_iter)
    p = classifier_probabilities(weights, data.images[test])
    accuracy = float(np.mean(weights["classes"][p.argmax(axis=1)] == data.labels[test]))
    train_acc = float(np.mean(weights["classes"][classifier_probabilities(weights, data.images[train]).argmax(axis=1)] == data.labels[train]))
    save_npz(out_npz, **weights)
    write_json(
        out_json,
        provenance(
            stage="train_classifier",
            config={"hidden": hidden, "max_iter": max_iter},
            inputs=[str(data_npz)],
            seed=seed,
            extra={"test_accuracy": accuracy, "train_accuracy": train_acc, "n_train": int(train.sum()),
                   "n_test": int(test.sum()), "seconds": time.perf_counter() - start},
        ),
    )
    log(f"classifier: train accuracy {train_acc:.4f}, test accuracy {accuracy:.4f} ({int(test.sum())} images)")


def _frame_table(paths: Any, images: Any) -> Any:
    """One row per decoded frame (path, step) with the path's parameters, in the npz's order."""
    from ..stats import walk_names

    keep = [c for c in ("method", "variant", "path_id", "pair", "step", "t", "delta", "alpha") if c in paths.columns]
    frames = paths[keep].sort_values(["path_id", "step"], kind="stable").reset_index(drop=True)
    if len(frames) != images.shape[0] * images.shape[1]:
        raise LatentwalkError(f"{len(frames)} path points but {images.shape[0] * images.shape[1]} decoded frames")
    frames.insert(1, "walk", walk_names(frames))
    return frames


def _midpoint_steps(frames: Any) -> Any:
    last = frames.groupby("path_id")["step"].transform("max")
    return (frames["step"] == last // 2) | ((last % 2 == 1) & (frames["step"] == last // 2 + 1))


def path_stats(
    run: str,
    path_tables: Sequence[str],
    decoded: Sequence[str],
    latents: PathLike,
    data_npz: PathLike,
    line_params: Mapping[str, Any] | None,
    classifier_npz: PathLike | None,
    out: Mapping[str, PathLike],
    log: Log = quiet,
) -> None:
    """Norms along every path, encoded norms, and interpolation quality of every decoded frame of one run.

    Writes ``out['path_norms']`` (every step), ``out['norm_summary']`` (per method and walk),
    ``out['encoded_norms']``, ``out['quality']`` (every frame) and ``out['quality_summary']``.
    """
    import numpy as np
    import pandas as pd

    from ..datasets import load_dataset
    from ..encoding import read_latents
    from ..io import read_parquet
    from ..stats import encoded_norm_summary, path_norm_summary, path_norm_table

    start = time.perf_counter()
    table, meta = read_latents(latents)
    d = int(meta["latent_dim"])
    tables = [read_parquet(p)[0] for p in path_tables]
    norms = path_norm_table(pd.concat(tables, ignore_index=True), d)
    _write_csv(norms, out["path_norms"])
    _write_csv(path_norm_summary(norms), out["norm_summary"])
    _write_csv(encoded_norm_summary(table["norm"].to_numpy(), table["split"].astype(str).to_numpy(), d), out["encoded_norms"])

    frames_all = []
    summaries = []
    if line_params is not None:
        from ..quality import (
            mean_smoothness,
            nearest_lines,
            reference_lines,
            smoothness,
            to_benchmark_scale,
        )

        angles, references = reference_lines(line_params)
    else:
        from ..quality import (
            classifier_probabilities,
            entropy,
            nearest_neighbour_distance,
        )

        if classifier_npz is None:
            raise LatentwalkError(f"{run}: class-labelled data needs the classifier to score frames")
        with np.load(classifier_npz) as handle:
            weights = {k: handle[k] for k in handle.files}
        data = load_dataset(data_npz)
        train_images = data.images[data.split == "train"]
    for paths, npz in zip(tables, decoded):
        with np.load(npz) as handle:
            images = handle["images"]
        frames = _frame_table(paths, images)
        flat = images.reshape(images.shape[0] * images.shape[1], *images.shape[2:])
        if line_params is not None:
            dist, idx = nearest_lines(to_benchmark_scale(flat), references)
            frames["line_distance"] = dist
            frames["line_angle"] = angles[idx]
            per_path = frames.groupby("path_id", sort=True)["line_angle"].apply(lambda a: smoothness(a.to_numpy()))
            frames["path_smoothness"] = frames["path_id"].map(per_path)
        else:
            p = classifier_probabilities(weights, flat)
            frames["predicted"] = weights["classes"][p.argmax(axis=1)]
            frames["confidence"] = p.max(axis=1)
            frames["entropy"] = entropy(p)
            frames["nn_distance"], _ = nearest_neighbour_distance(flat, train_images)
        mid = _midpoint_steps(frames)
        for walk, group in frames.groupby("walk", sort=False):
            row: dict[str, Any] = {"method": group["method"].iloc[0], "walk": walk, "paths": int(group["path_id"].nunique()),
                                   "frames": int(len(group))}
            gmid = group[mid[group.index]]
            if line_params is not None:
                per = group.groupby("path_id")["path_smoothness"].first().to_numpy()
                row.update(
                    mean_distance=float(group["line_distance"].mean()),
                    mean_distance_mid=float(gmid["line_distance"].mean()),
                    smoothness=mean_smoothness(per),
                    smoothness_undefined=int(np.isnan(per).sum()),
                )
            else:
                row.update(
                    confidence=float(group["confidence"].mean()),
                    confidence_mid=float(gmid["confidence"].mean()),
                    entropy=float(group["entropy"].mean()),
                    entropy_mid=float(gmid["entropy"].mean()),
                    nn_distance=float(group["nn_distance"].mean()),
                    nn_distance_mid=float(gmid["nn_distance"].mean()),
                )
            summaries.append(row)
        frames_all.append(frames)
    _write_csv(pd.concat(frames_all, ignore_index=True), out["quality"])
    _write_csv(pd.DataFrame(summaries), out["quality_summary"])
    log(f"{run}: {len(norms)} path points, {sum(len(f) for f in frames_all)} frames scored in {time.perf_counter() - start:.1f}s")


def summary(runs: Sequence[str], norm_summaries: Sequence[str], quality_summaries: Sequence[str], out_csv: PathLike, log: Log = quiet) -> None:
    """One row per run and compared interpolation: shell exits, midpoint norm ratio and quality."""
    import pandas as pd

    rows = []
    for run, norm_csv, quality_csv in zip(runs, norm_summaries, quality_summaries):
        dataset, rest = run.split("/")
        model, dim = rest.rsplit("-z", 1)
        norms = pd.read_csv(norm_csv)
        quality = pd.read_csv(quality_csv)
        merged = norms.merge(quality.drop(columns=["paths"]), on=["method", "walk"], how="left")
        merged = merged[merged["method"].isin(COMPARED) | (merged["method"] == "prior_pairs")]
        merged.insert(0, "dim", int(dim))
        merged.insert(0, "model", model)
        merged.insert(0, "dataset", dataset)
        rows.append(merged)
    table = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    keep = [c for c in ("dataset", "model", "dim", "method", "walk", "paths", "share_outside_shell", "share_below_shell",
                        "midpoint_ratio", "mean_norm", "shell_lo", "shell_hi", "mean_distance", "mean_distance_mid",
                        "smoothness", "smoothness_undefined", "confidence", "confidence_mid", "entropy_mid",
                        "nn_distance", "nn_distance_mid") if c in table.columns]
    _write_csv(table[keep], out_csv)
    log(f"summary: {len(table)} rows over {len(runs)} runs")



def key_numbers(
    summary_csv: PathLike, concentration_csv: PathLike, hypersphere_csv: PathLike, classifier_jsons: Sequence[str], out_rst: PathLike, log: Log = quiet
) -> None:
    """The headline numbers of the study as reStructuredText, included in the report's introduction."""
    import pandas as pd

    from ..io import read_json

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
    vae = summary[(summary["method"] == "prior_pairs") & summary["model"].isin(["vae", "beta_vae"])]
    if len(vae):
        d = int(vae["dim"].max())
        rows = vae[vae["dim"] == d].set_index(["dataset", "model", "walk"]).sort_index()
        (dataset, model, _walk) = rows.index[0]
        sel = rows.loc[(dataset, model)]
        parts = []
        for walk in ("lerp", "slerp", "lerp_matched"):
            if walk in sel.index:
                parts.append(f"{walk} midpoint ratio {sel.loc[walk, 'midpoint_ratio']:.3f}, "
                             f"{sel.loc[walk, 'share_outside_shell']:.0%} of steps outside the shell")
        lines.append(f"- **Prior pairs in {dataset}/{model}-z{d}** (endpoints at √d): " + "; ".join(parts)
                     + " (independent endpoints put lerp's midpoint at 1/√2 ≈ 0.707 of √d).")
    quality = summary[(summary["dataset"] == "lines") & summary["method"].isin(["lerp", "slerp", "lerp_matched"])]
    for (model, dim), group in quality.groupby(["model", "dim"], sort=True):
        cells = ", ".join(f"{r.walk} {r.mean_distance:.4f} / {r.smoothness:.3f}" for r in group.itertuples())
        lines.append(f"- **lines/{model}-z{dim}** Mean Distance / Smoothness: {cells}.")
    for path in classifier_jsons:
        record = read_json(path)
        cfg = record["config"]
        name = Path(path).stem
        lines.append(f"- **Frame classifier for {name}** (MLP, {cfg['hidden']} hidden units, {cfg['max_iter']} epochs): "
                     f"test accuracy {record['test_accuracy']:.4f} on {record['n_test']} held-out images.")
    text = "\n".join(lines) + "\n"
    with atomic_path(out_rst) as tmp:
        tmp.write_text(text)
    log(text)
