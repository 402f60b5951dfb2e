"""Tables as columns: a mapping of column name to a numpy array of one length, for jobs that read small tables
without pandas (its import costs a figure job about a fifth of a core-second, more than most of its figures).

Every function here also takes a pandas DataFrame where it takes a table (:func:`columns_of` converts), so the
figure functions built on them serve DataFrames and columns alike.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from latentwalk.core.io import LatentwalkError

__all__ = ["Columns", "columns_of", "n_rows", "take", "sorted_by", "first", "notna", "ordered_unique",
           "read_csv_table", "group_mean"]

#: A table: column name -> numpy array, all of one length.
Columns = dict[str, np.ndarray]

_BOOLEANS = {"True": True, "False": False}


def columns_of(table: Any) -> Columns:
    """A table (a mapping of column name to array-like, or a pandas DataFrame) as :data:`Columns`."""
    return {str(name): np.asarray(table[name]) for name in table}


def n_rows(table: Mapping[str, np.ndarray]) -> int:
    """The table's row count (0 for a table without columns)."""
    return len(next(iter(table.values()))) if table else 0


def take(table: Mapping[str, np.ndarray], rows: np.ndarray) -> Columns:
    """The rows selected by a boolean mask or an index array, in that order."""
    return {name: values[rows] for name, values in table.items()}


def sorted_by(table: Mapping[str, np.ndarray], keys: Sequence[str]) -> Columns:
    """The table's rows sorted by ``keys`` (the first key first), stably: rows with equal keys keep their order."""
    order = np.lexsort([np.asarray(table[k]) for k in reversed(keys)]) if keys and n_rows(table) else np.arange(n_rows(table))
    return take(table, order)


def first(table: Mapping[str, np.ndarray], column: str, where: np.ndarray) -> Any:
    """``column``'s value in the first row where ``where`` holds; a one-line error when no row does."""
    hits = np.flatnonzero(where)
    if hits.size == 0:
        raise LatentwalkError(f"no row selected for column {column!r}")
    return table[column][hits[0]]


def notna(values: np.ndarray) -> np.ndarray:
    """Where ``values`` are present: not NaN for numbers, not None / NaN / '' for objects; all True for booleans."""
    values = np.asarray(values)
    if values.dtype.kind == "f":
        return ~np.isnan(values)
    if values.dtype.kind == "O":
        return np.array([not (v is None or v == "" or (isinstance(v, float) and v != v)) for v in values], dtype=bool)
    return np.ones(values.shape, dtype=bool)


def ordered_unique(values: Iterable[Any]) -> list[Any]:
    """The distinct values in the order they first appear."""
    return list(dict.fromkeys(np.asarray(values).tolist()))


def group_mean(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per distinct key (ascending), the mean and the count of ``values``; NaN keys and values are left out."""
    keys, values = np.asarray(keys, dtype=np.float64), np.asarray(values, dtype=np.float64)
    keep = ~(np.isnan(keys) | np.isnan(values))
    unique, inverse = np.unique(keys[keep], return_inverse=True)
    counts = np.bincount(inverse, minlength=len(unique))
    sums = np.bincount(inverse, weights=values[keep], minlength=len(unique))
    return unique, sums / np.maximum(counts, 1), counts


def _column(cells: list[str]) -> np.ndarray:
    """One CSV column typed as pandas' reader types it: integers (no blank), floats (a blank is NaN), booleans
    ('True' / 'False', no blank), else strings (a blank is None)."""
    present = [c for c in cells if c != ""]
    if present and all(c in _BOOLEANS for c in present) and len(present) == len(cells):
        return np.array([_BOOLEANS[c] for c in cells], dtype=bool)
    try:
        if len(present) == len(cells):
            return np.array([int(c) for c in cells], dtype=np.int64)
    except ValueError:
        pass
    try:
        return np.array([float(c) if c != "" else np.nan for c in cells], dtype=np.float64)
    except ValueError:
        return np.array([c if c != "" else None for c in cells], dtype=object)


def read_csv_table(path: str | os.PathLike[str]) -> Columns:
    """Read a CSV with a header row as typed columns (see :func:`_column`), without pandas. Errors are one line
    naming the file."""
    try:
        with open(path, newline="") as handle:
            rows = list(csv.reader(handle))
        if not rows:
            raise ValueError("empty file")
        header, body = rows[0], rows[1:]
        if any(len(row) != len(header) for row in body):
            raise ValueError("rows of unequal length")
        if len(set(header)) != len(header):
            raise ValueError("repeated column names")
    except (OSError, ValueError, csv.Error) as exc:
        raise LatentwalkError(f"{path}: cannot read CSV: {str(exc).splitlines()[0]}") from exc
    return {name: _column([row[i] for row in body]) for i, name in enumerate(header)}
