"""One entry point per pipeline stage: read input artifacts, compute, write outputs atomically.

Rule scripts only unpack ``snakemake.*`` and call these. Heavy libraries are
imported inside the stage that needs them, so e.g. data preparation never
pays for a torch import.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .io import LatentwalkError, atomic_path, provenance, sha256_file, write_json

Log = Callable[[str], None]
PathLike = str | os.PathLike[str]


def _quiet(_message: str) -> None:
    return None


def prepare_data(name: str, params: Mapping[str, Any], seed: int, out_npz: PathLike, out_json: PathLike, inputs: list[str], log: Log = _quiet) -> None:
    """Build dataset ``name`` and write ``{name}.npz`` plus its provenance JSON."""
    from .datasets import prepare_dataset, save_dataset

    start = time.perf_counter()
    dataset = prepare_dataset(name, params, seed)
    counts = {s: int((dataset.split == s).sum()) for s in ("train", "test")}
    log(f"{name}: {dataset.images.shape[0]} images of {dataset.images.shape[1:]} ({counts['train']} train, {counts['test']} test)")
    save_dataset(dataset, out_npz)
    record = provenance(
        stage="prepare_data",
        config={"dataset": name, "data": dict(params)},
        inputs=inputs,
        seed=seed,
        extra={
            "n_images": int(dataset.images.shape[0]),
            "image_shape": list(dataset.images.shape[1:]),
            "counts": counts,
            "label_kind": dataset.label_kind,
            "source": dataset.source,
            "output_sha256": sha256_file(out_npz),
            "seconds": time.perf_counter() - start,
        },
    )
    write_json(out_json, record)


def train(
    data_npz: PathLike,
    dataset: str,
    kind: str,
    dim: int,
    model_params: Mapping[str, Any],
    train_params: Mapping[str, Any],
    seed: int,
    device: str,
    out_model: PathLike,
    out_log_csv: PathLike,
    out_meta: PathLike,
    log: Log = _quiet,
) -> None:
    """Train run ``{dataset}/{kind}-z{dim}`` on the train split; write weights, per-epoch log and meta."""
    import pandas as pd

    from .datasets import load_dataset
    from .models import ModelSpec
    from .training import HISTORY_COLUMNS, TrainConfig, evaluate, resolve_device, save_state_dict, train_model

    data = load_dataset(data_npz)
    is_train = data.split == "train"
    images = data.images[is_train]
    spec = ModelSpec.from_dict(
        {
            "kind": kind,
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
    model, history = train_model(spec, cfg, images, log)
    seconds = time.perf_counter() - start
    held_out = evaluate(model, data.images[~is_train])
    log(f"test split: reconstruction {held_out['reconstruction']:.4f}, kl {held_out['kl']:.4f} (n={held_out['n']})")
    frame = pd.DataFrame(history, columns=list(HISTORY_COLUMNS))
    with atomic_path(out_log_csv) as tmp:
        frame.to_csv(tmp, index=False)
    meta = provenance(
        stage="train",
        config={"dataset": dataset, "model": spec.to_dict(), "train": cfg.to_dict()},
        inputs=[str(data_npz)],
        seed=seed,
        extra={
            "run": f"{dataset}/{kind}-z{dim}",
            "device_used": str(resolve_device(device)),
            "n_train": int(is_train.sum()),
            "n_test": int((~is_train).sum()),
            "final": {k: float(frame[k].iloc[-1]) for k in ("loss", "reconstruction", "kl")} if len(frame) else {},
            "test": held_out,
            "seconds": seconds,
        },
    )
    save_state_dict(model, out_model)
    meta["model_sha256"] = sha256_file(out_model)
    write_json(out_meta, meta)
    log(f"wrote {out_model} ({meta['model_sha256'][:12]}) after {seconds:.1f}s")


def read_meta(path: PathLike) -> dict[str, Any]:
    """Read a run's ``meta.json``."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise LatentwalkError(f"{path}: cannot read run metadata: {exc}") from exc


def encode(
    data_npz: PathLike,
    model_pt: PathLike,
    meta_json: PathLike,
    dim: int,
    batch_size: int,
    device: str,
    out_parquet: PathLike,
    log: Log = _quiet,
) -> None:
    """Encode every example of the dataset with the run's encoder means; write the latent Parquet."""
    from .datasets import load_dataset
    from .encoding import encode_images, latent_table, write_latents
    from .models import ModelSpec
    from .training import load_model, resolve_device

    meta = read_meta(meta_json)
    spec = ModelSpec.from_dict(meta["config"]["model"])
    if spec.latent_dim != int(dim):
        raise LatentwalkError(f"{meta_json}: latent dim {spec.latent_dim} does not match the run's z{dim}")
    torch_device = resolve_device(device)
    model = load_model(model_pt, spec, torch_device)
    data = load_dataset(data_npz)
    start = time.perf_counter()
    mu, logvar = encode_images(model, data.images, batch_size, str(torch_device))
    table = latent_table(mu, logvar, data.labels, data.split)
    write_latents(
        table,
        out_parquet,
        {
            "run": meta.get("run"),
            "latent_dim": spec.latent_dim,
            "variational": spec.variational,
            "label_kind": data.label_kind,
            "model_sha256": sha256_file(model_pt),
            "data_sha256": sha256_file(data_npz),
        },
    )
    log(f"encoded {len(table)} examples to {spec.latent_dim}-D in {time.perf_counter() - start:.2f}s; "
        f"mean |mu| {table['norm'].mean():.4f}")


def plot_training(train_log_csv: PathLike, run: str, out_png: PathLike, out_svg: PathLike, log: Log = _quiet) -> None:
    """Training curves of one run."""
    import pandas as pd

    from .plots import save_figure, training_curves

    history = pd.read_csv(train_log_csv)
    save_figure(training_curves(history, f"{run}: training curves"), out_png, out_svg)
    log(f"plotted {len(history)} epochs")


def plot_latents(latents: PathLike, run: str, max_points: int, seed: int, out_png: PathLike, out_svg: PathLike, log: Log = _quiet) -> None:
    """Latent scatter of the test split of one run, coloured by label."""
    from .encoding import latent_matrix, read_latents
    from .plots import latent_scatter, save_figure, subsample

    table, meta = read_latents(latents)
    test = table[table["split"] == "test"].reset_index(drop=True)
    keep = subsample(len(test), max_points, seed)
    test = test.iloc[keep]
    fig = latent_scatter(
        latent_matrix(test),
        test["label"].to_numpy(),
        meta.get("label_kind", "class"),
        f"{run}: encoded test means (n={len(test)})",
        bool(meta.get("variational", False)),
        seed,
    )
    save_figure(fig, out_png, out_svg)
    log(f"plotted {len(test)} test latents")
