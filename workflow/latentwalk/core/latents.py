"""The latent table of a run (rule encode writes it; paths, statistics, figures and the explorer read it).

One Parquet row per example. Columns: ``index`` (row in the dataset file), ``split``, ``label``,
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

from latentwalk.core.io import PARQUET_METADATA_KEY, LatentwalkError, read_parquet

__all__ = ["read_latents", "check_latents", "latent_matrix", "label_text", "METADATA_KEY"]

METADATA_KEY = PARQUET_METADATA_KEY


def read_latents(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read a latent table and its ``latentwalk`` metadata, checked before anyone computes with it.

    The metadata must give ``latent_dim``; the table must hold ``index``,
    ``split`` (train/test), ``label``, ``norm``, exactly ``mu_0 .. mu_{d-1}``,
    ``logvar_*`` alike for variational runs and none otherwise, and ``norm``
    must be the norm of the means. Any violation is a one-line
    :class:`LatentwalkError` naming the file.
    """
    table, meta = read_parquet(path)
    check_latents(table, meta, path)
    return table, meta


def check_latents(table: pd.DataFrame, meta: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Validate a latent table against its metadata (see :func:`read_latents`)."""
    names = list(table.columns)
    if "latent_dim" not in meta:
        raise LatentwalkError(f"{path}: no latentwalk metadata (latent_dim); not a latent table written by the encode rule")
    d = int(meta["latent_dim"])
    missing = [c for c in ("index", "split", "label", "norm") if c not in names]
    if missing:
        raise LatentwalkError(f"{path}: missing column(s) {', '.join(missing)}")
    for prefix, wanted in (("mu", True), ("logvar", bool(meta.get("variational", False)))):
        expected = [f"{prefix}_{i}" for i in range(d)] if wanted else []
        present = [c for c in names if c.startswith(f"{prefix}_")]
        if sorted(present) != sorted(expected):
            lost = sorted(set(expected) - set(present), key=lambda c: int(c.rsplit("_", 1)[1]))
            extra = sorted(set(present) - set(expected))
            what = f"missing {', '.join(lost)}" if lost else f"unexpected {', '.join(extra)}"
            raise LatentwalkError(f"{path}: {prefix}_* columns do not match latent_dim {d} in its metadata ({what})")
    splits = {str(v) for v in np.unique(np.asarray(table["split"]).astype(str))}
    if not splits <= {"train", "test"}:
        raise LatentwalkError(f"{path}: split holds {sorted(splits - {'train', 'test'})}; allowed: train, test")
    mu = np.column_stack([np.asarray(table[f"mu_{i}"], dtype=np.float64) for i in range(d)])
    if not np.all(np.isfinite(mu)):
        raise LatentwalkError(f"{path}: non-finite latent means")
    if not np.allclose(np.asarray(table["norm"], dtype=np.float64), np.linalg.norm(mu, axis=1), rtol=1e-4, atol=1e-5):
        raise LatentwalkError(f"{path}: column norm is not |mu|; the table was edited after encoding")


def latent_matrix(table: pd.DataFrame, prefix: str = "mu") -> np.ndarray:
    """The ``(N, d)`` matrix of the ``{prefix}_i`` columns, in dimension order."""
    cols = [str(c) for c in table if str(c).startswith(f"{prefix}_")]
    cols.sort(key=lambda c: int(c.rsplit("_", 1)[1]))
    if not cols:
        raise LatentwalkError(f"latent table has no {prefix}_* columns")
    return np.column_stack([np.asarray(table[c]) for c in cols])


def label_text(value: Any, names: list[str] | None = None) -> str:
    """A label as shown in figures and the explorer: a class id as its name (where ``names``, the latent table's
    ``label_names``, has it) or as '3'; an angle as '57°'."""
    number = float(value)
    if number.is_integer():
        return names[int(number)] if names and 0 <= number < len(names) else str(int(number))
    return f"{np.degrees(number):.0f}°"
