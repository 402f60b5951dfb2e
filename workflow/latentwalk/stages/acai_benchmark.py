"""Stages acai_protocol and acai_table: the published line benchmark per (model, seed), and its table and figure."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io import LatentwalkError, PathLike, atomic_path, provenance, read_json, write_csv, write_json
from ..logs import Log, quiet


def acai_protocol(
    data_npz: PathLike,
    model: str,
    seed: int,
    dim: int,
    model_params: Mapping[str, Any],
    train_params: Mapping[str, Any],
    protocol: Mapping[str, Any],
    line_params: Mapping[str, Any],
    device: str,
    out_json: PathLike,
    log: Log = quiet,
) -> None:
    """Train ``model`` with ``seed`` on the ``lines`` train split and run the benchmark's evaluation after each of
    the last ``protocol["evaluations"]`` epochs (``protocol["pairs"]`` pairs x ``protocol["frames"]`` frames);
    write every evaluation and their medians (the run's Mean Distance and Smoothness) to ``out_json``."""
    from ..acai_benchmark import evaluate_protocol, protocol_pairs
    from ..datasets import load_dataset
    from ..models import ModelSpec
    from ..quality import reference_lines
    from ..training import TrainConfig, evaluate, train_model

    data = load_dataset(data_npz)
    if data.label_kind != "angle":
        raise LatentwalkError(f"{data_npz}: the line benchmark needs the lines dataset (angle labels)")
    train, test = data.images[data.split == "train"], data.images[data.split == "test"]
    spec = ModelSpec.from_dict({"kind": model, "latent_dim": int(dim), "image_shape": list(train.shape[1:]), **model_params})
    cfg = TrainConfig(epochs=int(train_params["epochs"]), batch_size=int(train_params["batch_size"]),
                      learning_rate=float(train_params["learning_rate"]), seed=int(seed), device=device,
                      threads=int(train_params["threads"]))
    angles, references = reference_lines(line_params)
    pairs = protocol_pairs(len(test), int(protocol["pairs"]), int(seed))
    endpoints = test[pairs]  # (pairs, 2, H, W)
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
        config={"model": spec.to_dict(), "train": cfg.to_dict(), "protocol": dict(protocol), "lines": dict(line_params)},
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
    import pandas as pd

    from ..acai_benchmark import PAPER_SAMPLES, summarize_runs
    from ..figures_compare import acai_benchmark_figure
    from ..plots import save_figure

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
