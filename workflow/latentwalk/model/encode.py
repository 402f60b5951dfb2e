"""Rule encode: latent means (and log-variances) of every example of a dataset, as the run's latent table.

Columns: ``index`` (row in the dataset file), ``split``, ``label`` (and the dataset's per-example attributes),
``mu_0 .. mu_{d-1}``, ``logvar_0 ..`` (variational models only) and ``norm`` (the Euclidean norm of ``mu``). The
encoder means are used, never a sample, so the table is deterministic. The file's schema metadata carries the
run's provenance under the key ``latentwalk`` (reading it back: :mod:`latentwalk.core.latents`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from latentwalk.core.io import LatentwalkError, PathLike, read_json, sha256_file, write_parquet
from latentwalk.core.logs import Log, quiet
from latentwalk.data.dataset import load_dataset
from latentwalk.model.checkpoint import MODEL_FILES, load_run_model
from latentwalk.model.external import check_finite
from latentwalk.model.networks import resolve_device, to_input, use_threads

__all__ = ["encode", "encode_images", "latent_table"]


def encode(
    data_npz: PathLike,
    model_files: Mapping[str, PathLike],
    dim: int,
    batch_size: int,
    device: str,
    out_parquet: PathLike,
    log: Log = quiet,
    threads: int = 1,
) -> None:
    """Encode every example of the dataset with the run's encoder means; write the latent Parquet. ``model_files``:
    the run's ``meta`` with its ``model`` or an external model's ``encoder`` and ``decoder``
    (:func:`~latentwalk.model.checkpoint.load_run_model`); torch runs on ``threads`` threads."""
    meta_json = model_files["meta"]
    meta = read_json(meta_json)
    if int(meta["config"]["model"]["latent_dim"]) != int(dim):
        raise LatentwalkError(f"{meta_json}: latent dim {meta['config']['model']['latent_dim']} does not match the run's z{dim}")
    use_threads(threads)
    torch_device = resolve_device(device)
    model, spec = load_run_model(model_files, torch_device)
    data = load_dataset(data_npz)
    start = time.perf_counter()
    mu, logvar = encode_images(model, data.images, batch_size, str(torch_device))
    table = latent_table(mu, logvar, data.labels, data.split, data.attributes)
    write_parquet(
        table,
        out_parquet,
        {
            "run": meta.get("run"),
            "latent_dim": spec.latent_dim,
            "variational": spec.variational,
            "label_kind": data.label_kind,
            "label_names": data.label_names,
            **{f"{key}_sha256": sha256_file(model_files[key]) for key in MODEL_FILES if key in model_files},
            "data_sha256": sha256_file(data_npz),
        },
    )
    log(f"encoded {len(table)} examples to {spec.latent_dim}-D in {time.perf_counter() - start:.2f}s; "
        f"mean |mu| {table['norm'].mean():.4f}")


def encode_images(model: Any, images: np.ndarray, batch_size: int = 2048, device: str = "cpu") -> tuple[np.ndarray, np.ndarray | None]:
    """Encoder means (and log-variances) of stored ``images`` ``(N, H, W, C)``, in batches, without gradients; the
    first batch with a NaN stops it, named."""

    mus: list[np.ndarray] = []
    logvars: list[np.ndarray] = []
    with torch.inference_mode():
        for k, first in enumerate(range(0, images.shape[0], batch_size)):
            batch = torch.as_tensor(np.ascontiguousarray(images[first : first + batch_size]), device=device)
            mu, logvar = model.encode(to_input(batch))
            check_finite(mu, model, "encoder", k, first)
            mus.append(mu.cpu().numpy())
            if logvar is not None:
                logvars.append(logvar.cpu().numpy())
    mu_all = np.concatenate(mus) if mus else np.zeros((0, model.spec.latent_dim), np.float32)
    return mu_all, (np.concatenate(logvars) if logvars else None)


def latent_table(mu: np.ndarray, logvar: np.ndarray | None, labels: np.ndarray, split: np.ndarray,
                 attributes: Mapping[str, np.ndarray] | None = None) -> pd.DataFrame:
    """Assemble the latent table (one row per example) from encoder outputs; ``attributes`` (further per-example
    labels, e.g. the azimuth and elevation of views) become columns after ``label``."""

    n, d = mu.shape
    if not (labels.shape[0] == split.shape[0] == n):
        raise LatentwalkError(f"latent table: {n} latents but {labels.shape[0]} labels and {split.shape[0]} split entries")
    columns: dict[str, Any] = {
        "index": np.arange(n, dtype=np.int64),
        "split": pd.Categorical(split.astype(str), categories=["train", "test"]),
        "label": labels,
    }
    columns.update({name: np.asarray(values) for name, values in (attributes or {}).items()})
    columns.update({f"mu_{i}": mu[:, i].astype(np.float32) for i in range(d)})
    if logvar is not None:
        columns.update({f"logvar_{i}": logvar[:, i].astype(np.float32) for i in range(d)})
    columns["norm"] = np.linalg.norm(mu.astype(np.float64), axis=1)
    return pd.DataFrame(columns)
