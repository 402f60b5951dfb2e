"""Stage train: fit one run and write weights, per-epoch log and provenance."""

from __future__ import annotations

import csv
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..io import PathLike, atomic_path, provenance, sha256_file, write_json
from ..logs import Log, quiet


def write_history_csv(history: Sequence[Mapping[str, float]], columns: Sequence[str], path: PathLike) -> None:
    """Write the per-epoch rows' ``columns`` as CSV atomically: for finite values (training stops on a non-finite
    loss), the bytes of pandas' ``to_csv(index=False)`` (floats as their shortest repr, integers as integers),
    without importing pandas into the job."""
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([row[c] for c in columns] for row in history)


def train(
    data_npz: PathLike,
    dataset: str,
    model: str,
    dim: int,
    model_params: Mapping[str, Any],
    train_params: Mapping[str, Any],
    seed: int,
    device: str,
    out_model: PathLike,
    out_log_csv: PathLike,
    out_meta: PathLike,
    log: Log = quiet,
) -> None:
    """Train run ``{dataset}/{model}-z{dim}`` on the train split; write weights, per-epoch log and meta.

    ``model`` is the run's model name (``vae``, ``beta_vae-b4``, ...): it fixes the kind and the KL weight.
    """
    from ..datasets import load_dataset
    from ..models import ModelSpec
    from ..registry import SWEPT_KINDS, parse_model
    from ..training import (
        TrainConfig,
        evaluate,
        history_columns,
        mean_image_reconstruction,
        resolve_device,
        save_state_dict,
        train_model,
        trainer_description,
        training_check,
    )

    data = load_dataset(data_npz)
    is_train = data.split == "train"
    images = data.images[is_train]
    kind, kl_weight = parse_model(model)
    spec = ModelSpec.from_dict(
        {
            "kind": kind,
            **({"beta": kl_weight} if kind in SWEPT_KINDS else {}),
            "latent_dim": int(dim),
            "image_shape": (int(data.images.shape[1]), int(data.images.shape[2])),
            **model_params,  # only the settings that shape this run; ModelSpec defaults fill the rest
        }
    )
    cfg = TrainConfig(
        epochs=int(train_params["epochs"]),
        batch_size=int(train_params["batch_size"]),
        learning_rate=float(train_params["learning_rate"]),
        seed=int(seed),
        device=device,
        threads=int(train_params["threads"]),
        kl_warmup_epochs=int(train_params.get("kl_warmup_epochs", 0)),
    )
    start = time.perf_counter()
    net, history = train_model(spec, cfg, images, log)
    seconds = time.perf_counter() - start
    held_out = evaluate(net, data.images[~is_train])
    log(f"test split: reconstruction {held_out['reconstruction']:.4f}, kl {held_out['kl']:.4f} (n={held_out['n']})")
    check = training_check(history, evaluate(net, images)["reconstruction"],
                           mean_image_reconstruction(images, spec.likelihood, spec.gaussian_sigma), cfg.kl_warmup_epochs)
    if check["degenerate"]:
        log(f"WARNING degenerate training: {check['reason']}")
    # per-epoch seconds stay in the job log: artifacts hold no timings, so reruns give the same bytes
    columns = [c for c in history_columns(spec) if c != "seconds"]
    write_history_csv(history, columns, out_log_csv)
    meta = provenance(
        stage="train",
        config={"dataset": dataset, "model": spec.to_dict(), "train": cfg.to_dict()},
        inputs=[str(data_npz)],
        seed=seed,
        extra={
            "run": f"{dataset}/{model}-z{dim}",
            "device_used": str(resolve_device(device)),
            "trainer": trainer_description(spec, resolve_device(device)),
            "n_train": int(is_train.sum()),
            "n_test": int((~is_train).sum()),
            "final": {k: float(history[-1][k]) for k in ("loss", "reconstruction", "kl")} if history else {},
            "test": held_out,
            "training_check": check,
        },
    )
    save_state_dict(net, out_model)
    meta["model_sha256"] = sha256_file(out_model)
    write_json(out_meta, meta)
    log(f"wrote {out_model} ({meta['model_sha256'][:12]}) after {seconds:.1f}s")
