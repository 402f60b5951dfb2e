"""A walk's points: :class:`PathSet` (the latent points of one or more paths and a parameter column per point),
and the endpoint pairs that interpolations share.

Every path method (:mod:`latentwalk.walks.interpolate`, :mod:`latentwalk.walks.traverse`,
:mod:`latentwalk.walks.geodesic`) returns a :class:`PathSet`: the points stacked as ``z`` with shape
``(n_points, d)`` plus one parameter column per point (``path_id``, ``step``, ``t`` or ``delta`` and the method's
own parameters), ready to be written as one tidy table. Points of one path are contiguous and ordered by ``step``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from latentwalk.core.io import LatentwalkError

__all__ = ["PathSet", "concat", "choose_pairs"]


@dataclass
class PathSet:
    """Points of one or more latent paths and a parameter column per point."""

    z: np.ndarray  # (n_points, d) float64
    columns: dict[str, np.ndarray] = field(default_factory=dict)  # each (n_points,)

    def __post_init__(self) -> None:
        self.z = np.asarray(self.z, dtype=np.float64)
        if self.z.ndim != 2:
            raise LatentwalkError(f"path points must be 2-D (n_points, d), got shape {self.z.shape}")
        for name, values in self.columns.items():
            if len(values) != len(self.z):
                raise LatentwalkError(f"path column {name!r} has {len(values)} values for {len(self.z)} points")

    @property
    def n_paths(self) -> int:
        return int(len(np.unique(self.columns["path_id"]))) if "path_id" in self.columns else 1

    @property
    def norm(self) -> np.ndarray:
        return np.linalg.norm(self.z, axis=1)

    def columns_table(self) -> dict[str, np.ndarray]:
        """The tidy table as columns (name -> array): parameter columns, ``z_0 .. z_{d-1}`` and ``norm``."""
        data = {name: np.asarray(values) for name, values in self.columns.items()}
        data.update({f"z_{i}": self.z[:, i] for i in range(self.z.shape[1])})
        data["norm"] = self.norm
        return data

    def table(self) -> Any:
        """The tidy table (:meth:`columns_table`) as a pandas DataFrame."""

        return pd.DataFrame(self.columns_table())


def concat(parts: Sequence[PathSet]) -> PathSet:
    """Stack path sets; path ids are renumbered 0 .. n-1 across the parts."""
    if not parts:
        raise LatentwalkError("no paths to concatenate")
    keys = list(parts[0].columns)
    for part in parts[1:]:
        for key in part.columns:
            if key not in keys:
                keys.append(key)
    columns: dict[str, np.ndarray] = {}
    offset = 0
    ids = []
    for part in parts:
        unique, dense = np.unique(part.columns["path_id"], return_inverse=True)
        ids.append(dense.astype(np.int64) + offset)
        offset += len(unique)
    for key in keys:
        if key == "path_id":
            columns[key] = np.concatenate(ids)
            continue
        values = []
        textual = any(key in part.columns and part.columns[key].dtype.kind in "OUS" for part in parts)
        for part in parts:
            if key in part.columns:
                values.append(part.columns[key].astype(object) if textual else part.columns[key])
            else:
                values.append(np.full(len(part.z), None if textual else np.nan, dtype=object if textual else np.float64))
        columns[key] = np.concatenate(values)
    return PathSet(np.concatenate([part.z for part in parts]), columns)


def choose_pairs(labels: np.ndarray, label_kind: str, n: int, mode: str, rng: np.random.Generator) -> np.ndarray:
    """Row indices ``(n, 2)`` of endpoint pairs, drawn reproducibly from ``rng``.

    ``random``: two distinct rows. ``same_class``: two distinct rows of one class,
    cycling through the classes (in sorted order) that have at least two rows.
    ``cross_class``: rows of two different classes. Angle-labelled data has no
    classes, so every mode draws random pairs there. Object-labelled data (views)
    always gets ``2n`` pairs whatever the mode: ``n`` of one object seen from two
    views (``same_class``), then ``n`` of two different objects (``cross_class``).
    """
    m = len(labels)
    if m < 2:
        raise LatentwalkError(f"endpoint pairs need at least 2 encoded test examples, got {m}")
    if mode not in ("random", "same_class", "cross_class"):
        raise LatentwalkError(f"paths.pairs.mode {mode!r} is not allowed; allowed values: 'random', 'same_class', 'cross_class'")
    if label_kind == "object":
        return np.concatenate([choose_pairs(labels, "class", n, "same_class", rng),
                               choose_pairs(labels, "class", n, "cross_class", rng)])
    if label_kind != "class" or mode == "random":
        out = np.empty((n, 2), dtype=np.int64)
        for k in range(n):
            out[k] = rng.choice(m, size=2, replace=False)
        return out
    classes = np.unique(labels)
    if mode == "same_class":
        usable = [c for c in classes if (labels == c).sum() >= 2]
        if not usable:
            raise LatentwalkError("paths.pairs.mode 'same_class': no class has two encoded test examples")
        out = np.empty((n, 2), dtype=np.int64)
        for k in range(n):
            rows = np.flatnonzero(labels == usable[k % len(usable)])
            out[k] = rng.choice(rows, size=2, replace=False)
        return out
    if len(classes) < 2:
        raise LatentwalkError("paths.pairs.mode 'cross_class': the test split has a single class")
    out = np.empty((n, 2), dtype=np.int64)
    for k in range(n):
        a = int(rng.integers(m))
        others = np.flatnonzero(labels != labels[a])
        out[k] = (a, int(rng.choice(others)))
    return out
