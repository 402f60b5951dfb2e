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


def _pair_columns(index: Any, labels: Any, pairs: Any, steps: int) -> dict[str, Any]:
    """Endpoint provenance per point: dataset indices and labels of each pair's ends."""
    import numpy as np

    return {
        "pair": np.repeat(np.arange(len(pairs)), steps),
        "index_a": np.repeat(index[pairs[:, 0]], steps),
        "index_b": np.repeat(index[pairs[:, 1]], steps),
        "label_a": np.repeat(labels[pairs[:, 0]], steps),
        "label_b": np.repeat(labels[pairs[:, 1]], steps),
    }


def generate_paths(
    method: str,
    latents: PathLike,
    params: Mapping[str, Any],
    seed: int,
    out_parquet: PathLike,
    model_pt: PathLike | None = None,
    meta_json: PathLike | None = None,
    device: str = "cpu",
    log: Log = _quiet,
) -> None:
    """Compute the latent points of ``method`` for one run and write ``paths/.../{method}.parquet``.

    Endpoints and starting points come from the encoded test split. Pairs are
    drawn from a generator seeded by ``seed`` alone, so lerp, slerp,
    lerp_matched and geodesic of one run share their endpoint pairs.
    """
    import zlib

    import numpy as np

    from . import paths as P
    from .encoding import latent_matrix, read_latents
    from .io import write_parquet

    table, meta = read_latents(latents)
    dim = int(meta["latent_dim"])
    label_kind = meta.get("label_kind", "class")
    test = table[table["split"] == "test"].reset_index(drop=True)
    mu = latent_matrix(test).astype(np.float64)
    labels = test["label"].to_numpy()
    index = test["index"].to_numpy()
    method_rng = np.random.default_rng([seed, zlib.crc32(method.encode())])

    def pairs_of(n: int) -> Any:
        pairs_cfg = params["pairs"]
        return P.choose_pairs(labels, label_kind, n, pairs_cfg["mode"], np.random.default_rng(seed))

    history: list[dict[str, float]] = []
    if method in ("lerp", "slerp", "lerp_matched"):
        pairs = pairs_of(params["pairs"]["n"])
        za, zb = mu[pairs[:, 0]], mu[pairs[:, 1]]
        if method == "slerp":
            result = P.slerp(za, zb, params["steps"], params["normalize"])
        else:
            result = getattr(P, method)(za, zb, params["steps"])
        result.columns.update(_pair_columns(index, labels, pairs, params["steps"]))
    elif method == "geodesic":
        import torch

        from .models import ModelSpec
        from .training import load_model, resolve_device

        if model_pt is None or meta_json is None:
            raise LatentwalkError("geodesic paths need the run's model.pt and meta.json")
        run_meta = read_meta(meta_json)
        spec = ModelSpec.from_dict(run_meta["config"]["model"])
        torch_device = resolve_device(device)
        torch.manual_seed(seed)
        model = load_model(model_pt, spec, torch_device)
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        pairs = pairs_of(params["pairs"]["n"])[: params["n_pairs"]]
        result, history = P.geodesic(
            lambda z: model.decode(z.to(torch_device)).cpu(),
            mu[pairs[:, 0]],
            mu[pairs[:, 1]],
            params["steps"],
            params["iterations"],
            params["learning_rate"],
            params["tolerance"],
        )
        result.columns.update(_pair_columns(index, labels, pairs, params["steps"]))
        for row in history:
            log(f"iteration {row['iteration']:5d}  mean path energy {row['energy']:.6f}")
    elif method == "prior_pairs":
        result = P.prior_pairs(params["n"], dim, params["steps"], method_rng, params["variants"])
    elif method == "traverse_axis":
        if params["start"] == "origin":
            start = np.zeros(dim)
        elif params["start"] == "mean":
            start = mu.mean(axis=0)
        else:
            start = mu[int(method_rng.integers(len(mu)))]
        dims = params["dims"]
        if dims is None:
            dims = np.argsort(-mu.var(axis=0), kind="stable")[: params["max_dims"]].tolist()
        result = P.traverse_axis(start, dims, params["range"], params["steps"])
    elif method == "traverse_pca":
        result = P.traverse_pca(mu, params["components"], params["range"], params["steps"])
    elif method == "attribute":
        if label_kind != "class":
            raise LatentwalkError("attribute walks need class labels; this dataset is labelled by angle")
        alphas = np.linspace(params["alpha"][0], params["alpha"][1], params["steps"])
        parts = []
        for class_a, class_b in params["class_pairs"]:
            rows = np.flatnonzero(labels == class_b)
            if rows.size == 0:
                raise LatentwalkError(f"paths.attribute.class_pairs: class {class_b} has no encoded test examples")
            chosen = np.sort(method_rng.choice(rows, size=min(params["starts"], rows.size), replace=False))
            part = P.attribute(mu, labels, class_a, class_b, mu[chosen], alphas)
            part.columns["index_start"] = np.repeat(index[chosen], params["steps"])
            parts.append(part)
        result = P.concat(parts)
    elif method == "grid":
        coordinates = params["coordinates"]
        if coordinates == "auto":
            coordinates = "latent" if dim == 2 and meta.get("variational") else "pca"
        if coordinates == "latent" and dim != 2:
            raise LatentwalkError(f"paths.grid.coordinates 'latent' needs d = 2, this run has d = {dim}")
        result = P.grid(params["n"], params["extent"], coordinates, mu)
        result.columns["coordinates"] = np.full(len(result.z), coordinates)
    elif method == "spiral":
        if dim != 2:
            raise LatentwalkError(f"spiral walks need d = 2, this run has d = {dim}")
        result = P.spiral(params["steps"])
    elif method == "sphere_spiral":
        result = P.sphere_spiral(dim, params["steps"], params["loops"], params["radius"])
    else:
        raise LatentwalkError(f"unknown path method {method!r}")

    frame = result.table()
    frame.insert(0, "method", method)
    write_parquet(
        frame,
        out_parquet,
        {"run": meta.get("run"), "method": method, "latent_dim": dim, "params": dict(params), "seed": seed,
         "latents_sha256": sha256_file(latents)},
    )
    log(f"{method}: {result.n_paths} paths, {len(frame)} points in {dim}-D; "
        f"norm min {frame['norm'].min():.4f} mean {frame['norm'].mean():.4f} max {frame['norm'].max():.4f}")


def decode_paths(
    path_tables: list[str],
    model_pt: PathLike,
    meta_json: PathLike,
    batch_size: int,
    device: str,
    out_npz: list[str],
    log: Log = _quiet,
) -> None:
    """Decode every path table of one run with its decoder; one ``.npz`` per table.

    Each npz holds ``images`` (n_paths, steps, H, W) float32 in [0, 1],
    ``path_id`` (n_paths,) and ``step`` (steps,), in the table's order.
    """
    import numpy as np
    import torch

    from .io import read_parquet, save_npz
    from .models import ModelSpec
    from .training import load_model, resolve_device

    if len(path_tables) != len(out_npz):
        raise LatentwalkError(f"decode: {len(path_tables)} path tables but {len(out_npz)} outputs")
    meta = read_meta(meta_json)
    spec = ModelSpec.from_dict(meta["config"]["model"])
    torch_device = resolve_device(device)
    model = load_model(model_pt, spec, torch_device)
    for table_path, out in zip(path_tables, out_npz):
        start = time.perf_counter()
        frame, _ = read_parquet(table_path)
        z_cols = sorted((c for c in frame.columns if c.startswith("z_")), key=lambda c: int(c[2:]))
        if len(z_cols) != spec.latent_dim:
            raise LatentwalkError(f"{table_path}: paths are {len(z_cols)}-D but the model's latent dim is {spec.latent_dim}")
        frame = frame.sort_values(["path_id", "step"], kind="stable")
        path_ids = frame["path_id"].unique()
        n_steps = frame.groupby("path_id")["step"].count().unique()
        if len(n_steps) != 1:
            raise LatentwalkError(f"{table_path}: paths have different step counts {sorted(n_steps)}")
        z = frame[z_cols].to_numpy(dtype=np.float32)
        chunks = []
        with torch.inference_mode():
            for first in range(0, len(z), batch_size):
                batch = torch.tensor(z[first : first + batch_size], device=torch_device)
                chunks.append(model.decode(batch).cpu().numpy())
        images = np.concatenate(chunks).reshape(len(path_ids), int(n_steps[0]), *spec.image_shape)
        save_npz(out, images=images.astype(np.float32), path_id=path_ids.astype(np.int64), step=np.arange(int(n_steps[0])))
        log(f"decoded {table_path}: {images.shape[0]} paths x {images.shape[1]} steps in {time.perf_counter() - start:.2f}s")
