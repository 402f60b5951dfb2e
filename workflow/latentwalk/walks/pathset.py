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
from latentwalk.core.registry import BASELINES, PAIR_INTERPOLATIONS

__all__ = ["PathSet", "concat", "choose_pairs", "available_pairs", "shared_pairs", "on_shared_pairs"]


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
    """Row indices ``(k, 2)`` of ``k = min(n, available)`` distinct endpoint pairs, drawn reproducibly from ``rng``.

    Pairs are unordered: no two share both rows, whichever way round (a pair is walked from its first row to its
    second). ``random``: two distinct rows. ``same_class``: two distinct rows of one class, cycling through the
    classes (in sorted order) that have at least two rows. ``cross_class``: rows of two different classes. Angle-
    labelled data has no classes, so every mode draws random pairs there. Object-labelled data (views) always gets
    pairs of one object seen from two views (``same_class``), then as many of two different objects
    (``cross_class``). Asking for more pairs than the rows offer (:func:`available_pairs`) gives all of them.
    """
    m = len(labels)
    if m < 2:
        raise LatentwalkError(f"endpoint pairs need at least 2 encoded test examples, got {m}")
    if mode not in ("random", "same_class", "cross_class"):
        raise LatentwalkError(f"paths.pairs.mode {mode!r} is not allowed; allowed values: 'random', 'same_class', 'cross_class'")
    if label_kind == "object":
        return np.concatenate([choose_pairs(labels, "class", n, "same_class", rng),
                               choose_pairs(labels, "class", n, "cross_class", rng)])
    mode = mode if label_kind == "class" else "random"
    classes = np.unique(labels)
    if mode == "same_class" and not any((labels == c).sum() >= 2 for c in classes):
        raise LatentwalkError("paths.pairs.mode 'same_class': no class has two encoded test examples")
    if mode == "cross_class" and len(classes) < 2:
        raise LatentwalkError("paths.pairs.mode 'cross_class': the test split has a single class")
    total = available_pairs(labels, label_kind, mode)
    if n >= total:  # every pair the rows offer, in a seeded order
        every = _every_pair(labels, mode)
        return every[rng.permutation(len(every))]
    rows = {c: np.flatnonzero(labels == c) for c in classes if (labels == c).sum() >= 2}
    left = {c: len(r) * (len(r) - 1) // 2 for c, r in rows.items()}  # same_class: pairs each class has not given yet
    usable = list(rows)
    out: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()
    k = 0  # same_class: the class whose turn it is (a class that has given all its pairs is passed over)
    while len(out) < n:
        if mode == "random":
            a, b = (int(v) for v in rng.choice(m, size=2, replace=False))
        elif mode == "same_class":
            if not left[usable[k % len(usable)]]:
                k += 1
                continue
            a, b = (int(v) for v in rng.choice(rows[usable[k % len(usable)]], size=2, replace=False))
        else:
            a = int(rng.integers(m))
            b = int(rng.choice(np.flatnonzero(labels != labels[a])))
        if (min(a, b), max(a, b)) not in seen:
            seen.add((min(a, b), max(a, b)))
            out.append((a, b))
            if mode == "same_class":
                left[usable[k % len(usable)]] -= 1
                k += 1
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def available_pairs(labels: np.ndarray, label_kind: str, mode: str) -> int:
    """How many distinct unordered endpoint pairs ``mode`` can draw from rows labelled ``labels`` (per mode for
    object-labelled data, which draws that many of each)."""
    counts = np.unique(labels, return_counts=True)[1].astype(np.int64)
    m = int(len(labels))
    if label_kind not in ("class", "object") or mode == "random":
        return m * (m - 1) // 2
    same = int((counts * (counts - 1) // 2).sum())
    cross = int((m * m - (counts * counts).sum()) // 2)
    if label_kind == "object":
        return min(same, cross)
    return same if mode == "same_class" else cross


def _every_pair(labels: np.ndarray, mode: str) -> np.ndarray:
    """Every unordered pair of rows (``a < b``) that ``mode`` allows."""
    a, b = np.triu_indices(len(labels), k=1)
    if mode == "same_class":
        keep = labels[a] == labels[b]
    elif mode == "cross_class":
        keep = labels[a] != labels[b]
    else:
        keep = np.ones(len(a), dtype=bool)
    return np.column_stack([a[keep], b[keep]]).astype(np.int64)


def shared_pairs(tables: Sequence[Any]) -> set[tuple[int, int]] | None:
    """The endpoint pairs ``(index_a, index_b)`` that every pair interpolation among ``tables`` walks (None when
    there is none): the summary scores each of them, and the baselines, on these alone, so that methods compared side
    by side are compared on the same pairs (a geodesic may walk fewer pairs than lerp)."""
    keys = [set(zip(t["index_a"].tolist(), t["index_b"].tolist())) for t in tables
            if len(t) and str(t["method"].iloc[0]) in PAIR_INTERPOLATIONS and "index_a" in t.columns]
    return set.intersection(*keys) if keys else None


def on_shared_pairs(frame: Any, shared: set[tuple[int, int]] | None) -> np.ndarray:
    """Rows of ``frame`` (paths or frames) the summary keeps: every row of other walks, and the rows of pair
    interpolations and baselines whose endpoint pair is in ``shared``."""
    keep = np.ones(len(frame), dtype=bool)
    if shared is None:
        return keep
    compared = frame["method"].isin((*PAIR_INTERPOLATIONS, *BASELINES)).to_numpy()
    pairs = list(zip(frame["index_a"].tolist(), frame["index_b"].tolist())) if "index_a" in frame.columns else []
    keep[compared] = [pairs[i] in shared for i in np.flatnonzero(compared)]
    return keep
