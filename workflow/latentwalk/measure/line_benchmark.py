"""The published line benchmark (Berthelot, Raffel, Roy and Goodfellow 2018, Table 1): protocol, scores, table.

The protocol: a model trains on ``lines`` drawn by the benchmark's own renderer; every evaluation encodes 2 x 16
random test lines (the same ones every time), lerps 16 frames between each pair, decodes them and scores the 256
frames against the 10,000 reference lines: Mean Distance (mean cosine distance to the nearest reference line) and
Mean Smoothness (per path, the largest angle step over the total change, minus 1/15), both with the benchmark's
edge-case semantics (:mod:`latentwalk.measure.quality`). A run's value is the median of its last evaluations (one per
epoch); the table gives mean and standard deviation over seeds, beside the paper's numbers.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from latentwalk.core.io import LatentwalkError, PathLike, provenance, read_json, write_csv, write_json
from latentwalk.core.logs import Log, quiet
from latentwalk.data.dataset import load_dataset
from latentwalk.figures.comparison import acai_benchmark_figure
from latentwalk.figures.style import save_figure
from latentwalk.measure.quality import mean_smoothness, nearest_lines, reference_lines, smoothness, to_benchmark_scale
from latentwalk.model.networks import ModelSpec, image_shape, to_frames, to_input
from latentwalk.model.training import TrainConfig, evaluate, train_model

__all__ = ["PAPER_TABLE", "PAPER_SAMPLES", "protocol_pairs", "lerp_latents", "score_walks", "evaluate_protocol",
           "summarize_runs", "acai_protocol", "acai_table"]

#: Table 1 of the paper as given in the issue that asked for this benchmark (not re-checked against the paper's
#: text here): model -> (Mean Distance x 1e-3 mean, std, Mean Smoothness mean, std), over 5 reruns.
PAPER_TABLE: dict[str, tuple[float, float, float, float]] = {
    "ae": (6.88, 0.21, 0.44, 0.04),
    "vae": (1.21, 0.17, 0.49, 0.13),
    "acai": (0.24, 0.01, 0.10, 0.01),
}
#: The paper's training budget: 2^24 samples (``total_kimg = 1 << 14`` in its code), batch 64, Adam 1e-4.
PAPER_SAMPLES = 1 << 24


def protocol_pairs(n_test: int, pairs: int, seed: int) -> np.ndarray:
    """``(pairs, 2)`` distinct test-row indices (2 x ``pairs`` different lines), drawn once per seed."""
    if 2 * pairs > n_test:
        raise ValueError(f"the protocol needs {2 * pairs} test lines, the test split has {n_test}")
    return np.random.default_rng(seed).choice(n_test, size=2 * pairs, replace=False).reshape(2, pairs).T


def lerp_latents(z_a: np.ndarray, z_b: np.ndarray, frames: int) -> np.ndarray:
    """``(pairs, frames, d)``: ``(1 - t) z_a + t z_b`` at ``t = k / (frames - 1)``, both ends included."""
    t = (np.arange(frames) / (frames - 1))[None, :, None]
    return (1.0 - t) * z_a[:, None, :] + t * z_b[:, None, :]


def score_walks(images: np.ndarray, angles: np.ndarray, references: np.ndarray) -> tuple[float, float]:
    """(Mean Distance, Mean Smoothness) of decoded walks ``(paths, frames, H, W)`` in [0, 1], scored as the
    benchmark scores them against ``references`` (``quality.reference_lines``)."""
    paths, frames = images.shape[:2]
    distance, index = nearest_lines(to_benchmark_scale(images.reshape(paths * frames, -1)), references)
    found = angles[index].reshape(paths, frames)
    return float(np.mean(distance)), mean_smoothness(np.array([smoothness(row) for row in found]))


def evaluate_protocol(model: Any, endpoints: np.ndarray, frames: int, angles: np.ndarray,
                      references: np.ndarray) -> tuple[float, float]:
    """Encode the endpoint images ``(pairs, 2, H, W, C)``, lerp ``frames`` frames between their latent means, decode,
    and score: (Mean Distance, Mean Smoothness)."""
    pairs = endpoints.shape[0]
    device = next(model.parameters()).device  # evaluated where it trains (CPU or GPU)
    with torch.inference_mode():
        x = torch.as_tensor(np.ascontiguousarray(endpoints.reshape(2 * pairs, *endpoints.shape[2:])), device=device)
        mu, _ = model.encode(to_input(x))
        z = mu.double().cpu().numpy().reshape(pairs, 2, -1)
        walk = lerp_latents(z[:, 0], z[:, 1], frames)
        latents = torch.as_tensor(walk.reshape(pairs * frames, -1), dtype=torch.float32, device=device)
        images = to_frames(model.decode(latents))
    return score_walks(images.reshape(pairs, frames, *images.shape[1:]), angles, references)


def summarize_runs(results: Sequence[Mapping[str, Any]], models: Sequence[str]) -> list[dict[str, Any]]:
    """One row per model: our Mean Distance (x 1e-3) and Smoothness, mean and standard deviation over seeds
    (``ddof = 1``; 0 for one seed; NaN when a seed's value is undefined, stored as null), the seeds, and the
    paper's numbers."""
    rows = []
    for model in models:
        mine = [r for r in results if r["model"] == model]
        if not mine:
            raise ValueError(f"no benchmark result for model {model!r}")
        md = np.array([np.nan if r["mean_distance"] is None else r["mean_distance"] for r in mine], dtype=float) * 1e3
        sm = np.array([np.nan if r["smoothness"] is None else r["smoothness"] for r in mine], dtype=float)
        spread = (lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0)
        paper = PAPER_TABLE.get(model, (np.nan,) * 4)
        rows.append({
            "model": model, "seeds": len(mine),
            "mean_distance_e3": float(np.mean(md)), "mean_distance_e3_std": spread(md),
            "smoothness": float(np.mean(sm)), "smoothness_std": spread(sm),
            "paper_mean_distance_e3": paper[0], "paper_mean_distance_e3_std": paper[1],
            "paper_smoothness": paper[2], "paper_smoothness_std": paper[3],
        })
    return rows


# --------------------------------------------------------------------------- rules acai_protocol and acai_table


def acai_protocol(
    data_npz: PathLike,
    model: str,
    seed: int,
    model_params: Mapping[str, Any],
    train_params: Mapping[str, Any],
    protocol: Mapping[str, Any],
    out_json: PathLike,
    log: Log = quiet,
) -> None:
    """Train ``model`` (``protocol["latent_dim"]``-D) with ``seed`` on the ``lines`` train split and run the
    benchmark's evaluation after each of the last ``protocol["evaluations"]`` epochs (``protocol["pairs"]`` pairs x
    ``protocol["frames"]`` frames, scored against the lines of ``protocol["lines"]``); write every evaluation and
    their medians (the run's Mean Distance and Smoothness) to ``out_json``. ``train_params`` holds the epochs,
    batch size, learning rate, threads and device."""
    dim, line_params = int(protocol["latent_dim"]), protocol["lines"]
    data = load_dataset(data_npz)
    if data.label_kind != "angle":
        raise LatentwalkError(f"{data_npz}: the line benchmark needs the lines dataset (angle labels)")
    train, test = data.images[data.split == "train"], data.images[data.split == "test"]
    spec = ModelSpec.from_dict({"kind": model, "latent_dim": int(dim), "image_shape": image_shape(train), **model_params})
    cfg = TrainConfig(epochs=int(train_params["epochs"]), batch_size=int(train_params["batch_size"]),
                      learning_rate=float(train_params["learning_rate"]), seed=int(seed), device=str(train_params["device"]),
                      threads=int(train_params["threads"]))
    angles, references = reference_lines(line_params)
    pairs = protocol_pairs(len(test), int(protocol["pairs"]), int(seed))
    endpoints = test[pairs]  # (pairs, 2, H, W, C)
    first_scored = cfg.epochs - int(protocol["evaluations"]) + 1
    evaluations: list[dict[str, float]] = []

    def on_epoch(epoch: int, net: Any) -> None:
        if epoch >= first_scored:
            md, sm = evaluate_protocol(net, endpoints, int(protocol["frames"]), angles, references)
            evaluations.append({"epoch": epoch, "mean_distance": _number(md), "smoothness": _number(sm)})
            log(f"epoch {epoch}: Mean Distance {md * 1e3:.3f}e-3, Mean Smoothness {sm:.3f}")

    start = time.perf_counter()
    net, history = train_model(spec, cfg, train, log, on_epoch=on_epoch)
    held_out = evaluate(net, test)
    record = provenance(
        stage="acai_protocol",
        config={"model": spec.to_dict(), "train": cfg.to_dict(),
                "protocol": {k: v for k, v in protocol.items() if k != "lines"}, "lines": dict(line_params)},
        inputs=[str(data_npz)], seed=int(seed),
        extra={
            "model": model, "seed": int(seed), "dim": int(dim),
            "samples_seen": int(cfg.epochs * len(train)),
            "pairs": pairs.tolist(),
            "evaluations": evaluations,
            "mean_distance": _median(e["mean_distance"] for e in evaluations),
            "smoothness": _median(e["smoothness"] for e in evaluations),
            "test_reconstruction": held_out["reconstruction"],
            "final_loss": {k: float(v) for k, v in history[-1].items() if k != "seconds"},
        },
    )
    write_json(out_json, record)
    log(f"{model} seed {seed}: median of {len(evaluations)} evaluations: Mean Distance {record['mean_distance']}, "
        f"Mean Smoothness {record['smoothness']} ({time.perf_counter() - start:.0f}s)")


def _number(value: float) -> float | None:
    """A metric for JSON: undefined values (NaN, as the benchmark's semantics give them) become null."""
    return float(value) if np.isfinite(value) else None


def _median(values: Any) -> float | None:
    """The median of metric values, undefined (null) when any is undefined (as numpy's median of NaN)."""
    numbers = [np.nan if v is None else v for v in values]
    return _number(float(np.median(numbers)))


def acai_table(
    results: Sequence[PathLike],
    models: Sequence[str],
    out_csv: PathLike,
    out_png: PathLike,
    out_svg: PathLike,
    log: Log = quiet,
) -> None:
    """Mean and standard deviation over seeds per model beside the paper's Table 1 (CSV), and the figure."""
    records = [read_json(path) for path in results]
    rows = summarize_runs(records, models)
    samples = sorted({int(r["samples_seen"]) for r in records})
    budget = f"{samples[0]:,} training samples per run ({samples[0] / PAPER_SAMPLES:.2%} of the paper's 2^24)"
    table = pd.DataFrame(rows)
    table["samples_seen"] = samples[0]
    write_csv(table, out_csv)
    fig = acai_benchmark_figure(table, f"Line benchmark, ours vs the paper's Table 1: {budget}")
    save_figure(fig, Path(out_png), Path(out_svg))
    for row in rows:
        log(f"{row['model']}: Mean Distance {row['mean_distance_e3']:.2f} ± {row['mean_distance_e3_std']:.2f} e-3 "
            f"(paper {row['paper_mean_distance_e3']}), Smoothness {row['smoothness']:.2f} ± {row['smoothness_std']:.2f} "
            f"(paper {row['paper_smoothness']}) over {row['seeds']} seeds")
