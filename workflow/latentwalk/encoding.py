"""Encode a dataset into latent space and write one Parquet row per example.

Columns: ``index`` (row in the dataset file), ``split``, ``label``,
``mu_0 .. mu_{d-1}``, ``logvar_0 ..`` (variational models only) and ``norm``
(the Euclidean norm of ``mu``). The encoder means are used, never a sample,
so the table is deterministic. The file's schema metadata carries the run's
provenance under the key ``latentwalk``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from .io import PARQUET_METADATA_KEY, LatentwalkError, read_parquet, write_parquet

__all__ = ["encode_images", "latent_table", "write_latents", "read_latents", "latent_matrix", "METADATA_KEY"]

METADATA_KEY = PARQUET_METADATA_KEY


def encode_images(model: Any, images: np.ndarray, batch_size: int = 2048, device: str = "cpu") -> tuple[np.ndarray, np.ndarray | None]:
    """Encoder means (and log-variances) of ``images`` ``(N, H, W)``, in batches, without gradients."""
    import torch

    mus: list[np.ndarray] = []
    logvars: list[np.ndarray] = []
    with torch.inference_mode():
        for first in range(0, images.shape[0], batch_size):
            batch = torch.as_tensor(np.ascontiguousarray(images[first : first + batch_size], dtype=np.float32), device=device)
            mu, logvar = model.encode(batch)
            mus.append(mu.cpu().numpy())
            if logvar is not None:
                logvars.append(logvar.cpu().numpy())
    mu_all = np.concatenate(mus) if mus else np.zeros((0, model.spec.latent_dim), np.float32)
    return mu_all, (np.concatenate(logvars) if logvars else None)


def latent_table(mu: np.ndarray, logvar: np.ndarray | None, labels: np.ndarray, split: np.ndarray) -> pd.DataFrame:
    """Assemble the latent table (one row per example) from encoder outputs."""
    n, d = mu.shape
    if not (labels.shape[0] == split.shape[0] == n):
        raise LatentwalkError(f"latent table: {n} latents but {labels.shape[0]} labels and {split.shape[0]} split entries")
    columns: dict[str, Any] = {
        "index": np.arange(n, dtype=np.int64),
        "split": pd.Categorical(split.astype(str), categories=["train", "test"]),
        "label": labels,
    }
    columns.update({f"mu_{i}": mu[:, i].astype(np.float32) for i in range(d)})
    if logvar is not None:
        columns.update({f"logvar_{i}": logvar[:, i].astype(np.float32) for i in range(d)})
    columns["norm"] = np.linalg.norm(mu.astype(np.float64), axis=1)
    return pd.DataFrame(columns)


def write_latents(table: pd.DataFrame, path: str | os.PathLike[str], metadata: Mapping[str, Any]) -> None:
    """Write the latent table to Parquet atomically, with ``metadata`` in the schema metadata."""
    write_parquet(table, path, metadata)


def read_latents(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a latent table and its ``latentwalk`` metadata."""
    return read_parquet(path)


def latent_matrix(table: pd.DataFrame, prefix: str = "mu") -> np.ndarray:
    """The ``(N, d)`` matrix of the ``{prefix}_i`` columns, in dimension order."""
    cols = [c for c in table.columns if c.startswith(f"{prefix}_")]
    cols.sort(key=lambda c: int(c.rsplit("_", 1)[1]))
    if not cols:
        raise LatentwalkError(f"latent table has no {prefix}_* columns")
    return table[cols].to_numpy()
