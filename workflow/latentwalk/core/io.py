"""Atomic writes, hashing and provenance records shared by every stage.

Nothing here imports torch or matplotlib: stages that only move arrays and
tables stay fast to start.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

PathLike = str | os.PathLike[str]

__all__ = [
    "LatentwalkError",
    "check_checkpoint",
    "PathLike",
    "read_json",
    "atomic_path",
    "atomic_dir",
    "current_umask",
    "remove_stale_temporaries",
    "method_files",
    "write_csv",
    "sha256_file",
    "package_versions",
    "git_commit",
    "provenance",
    "write_json",
    "save_npz",
    "write_parquet",
    "read_parquet",
    "read_csv",
    "PARQUET_METADATA_KEY",
]

#: Key of the JSON provenance record in a Parquet file's schema metadata.
PARQUET_METADATA_KEY = b"latentwalk"


class LatentwalkError(RuntimeError):
    """A user-facing error: the message is one line naming the file, key or value at fault."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    The temporary file keeps the target's suffix so libraries that dispatch on
    it (``np.savez``, ``torch.save``, pandas) behave as for the real name. If
    the body raises, the temporary file is removed and ``path`` is untouched,
    so no half-written artifact can survive.
    """
    target = Path(path)
    with _naming_write_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.stem}.", suffix=f".tmp{target.suffix}", dir=target.parent
        )
        os.close(fd)
    tmp = Path(tmp_name)
    try:
        with _naming_write_errors(target):
            yield tmp
            if tmp.is_file():
                os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes it private; results follow the umask
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


#: Why a write fails that is the disk's or the mount's doing, not the data's: named with the file being written.
_WRITE_ERRORS = {errno.ENOSPC: "no space left on the device", errno.EROFS: "the file system is read-only",
                 errno.EDQUOT: "the disk quota is exhausted", errno.EACCES: "permission denied"}


@contextlib.contextmanager
def _naming_write_errors(target: Path) -> Iterator[None]:
    """Turn a full disk, a read-only mount, an exhausted quota or a denied write into one line naming ``target``
    (the OSError of a write to an open file names no file)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _WRITE_ERRORS:
            raise
        raise LatentwalkError(f"{target}: cannot be written: {_WRITE_ERRORS[exc.errno]} (errno {exc.errno}); "
                              "nothing half-written is left, free space or permissions and rerun") from exc


def current_umask() -> int:
    """The process umask (read without changing it for longer than a call)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def remove_stale_temporaries(target: str | os.PathLike[str]) -> list[Path]:
    """Delete what an interrupted earlier write of ``target`` left beside it (``.{stem}.XXXXXXXX.tmp{suffix}``).

    :func:`atomic_path` and :func:`atomic_dir` clean up after themselves unless
    the process is killed outright (SIGKILL, power loss); the next write of the
    same target removes such leftovers. Returns what was removed.
    """

    path = Path(target)
    if not path.parent.is_dir():
        return []
    stale = re.compile(rf"^\.{re.escape(path.stem)}\.[A-Za-z0-9_]{{8}}\.tmp{re.escape(path.suffix)}$")
    stale_dir = re.compile(rf"^\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}\.tmp$")
    removed = []
    for entry in path.parent.iterdir():
        if stale.match(entry.name) or stale_dir.match(entry.name):
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
            removed.append(entry)
    return removed


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; rename it onto ``path`` only on success.

    For outputs that are a set of files (a run's path tables, decoded walks or
    walk figures): either the whole directory appears, or nothing does. An
    existing ``path`` is replaced; on failure the temporary directory is removed.
    """

    target = Path(path)
    with _naming_write_errors(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(target)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
        os.chmod(tmp, 0o777 & ~current_umask())  # mkdtemp makes it private; the result follows the umask like any directory
    try:
        with _naming_write_errors(target):
            yield tmp
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def method_files(directory: str | os.PathLike[str], methods: Sequence[str], suffix: str, exact: bool = True) -> list[Path]:
    """``directory/{method}{suffix}`` for each method, checking the directory holds exactly those files (with
    ``exact=False``: at least those files)."""
    folder = Path(directory)
    expected = [folder / f"{method}{suffix}" for method in methods]
    present = sorted(p.name for p in folder.glob(f"*{suffix}")) if folder.is_dir() else []
    wanted = sorted(p.name for p in expected)
    if (present != wanted) if exact else not set(wanted) <= set(present):
        raise LatentwalkError(f"{folder}: expected {', '.join(p.name for p in expected)}; found {', '.join(present) or 'nothing'}")
    return expected


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def check_checkpoint(model_pt: str | os.PathLike[str], meta_json: str | os.PathLike[str]) -> None:
    """Raise a one-line :class:`LatentwalkError` naming ``model_pt`` unless its SHA-256 is the ``model_sha256`` that
    the run's ``meta.json`` records (a swapped or edited checkpoint); the workflow calls it for every run before it
    schedules a job, and every job that loads a checkpoint calls it again."""
    recorded = read_json(meta_json).get("model_sha256")
    actual = sha256_file(model_pt)
    if recorded is None or actual != recorded:
        raise LatentwalkError(
            f"{model_pt}: SHA-256 {actual[:12]}... is not the checkpoint {meta_json} records "
            f"({str(recorded)[:12]}...); the weights were replaced or edited: retrain (delete the file) or restore it"
        )


_VERSIONED = ("latentwalk", "numpy", "pandas", "scipy", "torch", "scikit-learn", "pyarrow", "matplotlib", "snakemake")


def package_versions(names: Sequence[str] = _VERSIONED) -> dict[str, str]:
    """Installed versions of the named distributions (absent ones are skipped)."""
    versions = {"python": platform.python_version()}
    for name in names:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def git_commit(cwd: str | os.PathLike[str] | None = None) -> str | None:
    """The current git commit of the package's checkout, or None outside git."""
    where = Path(cwd) if cwd is not None else Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def provenance(
    *,
    stage: str,
    config: Mapping[str, Any],
    inputs: Sequence[str | os.PathLike[str]] = (),
    seed: int | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build the provenance record written beside an artifact.

    Records the config subset the stage used, the seed, package versions, the
    git commit (if any) and the SHA-256 of every input file. Nothing in it
    depends on where the checkout lives or how long the job took, so two runs
    of the same commit and config write the same bytes.
    """
    record: dict[str, Any] = {
        "stage": stage,
        "config": dict(config),
        "seed": seed,
        "versions": package_versions(),
        "git_commit": git_commit(),
        "inputs": {str(p): sha256_file(p) for p in inputs},
    }
    if extra:
        record.update(extra)
    return record


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def write_json(path: str | os.PathLike[str], payload: Mapping[str, Any]) -> None:
    """Write ``payload`` as indented, key-sorted JSON, atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(payload, indent=2, sort_keys=True, default=_json_default, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a JSON artifact (e.g. a run's ``meta.json``) with a one-line error naming the file."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise LatentwalkError(f"{path}: cannot read JSON: {str(exc).splitlines()[0]}") from exc


def write_csv(frame: Any, path: str | os.PathLike[str]) -> None:
    """Write a pandas table to CSV atomically (10 significant digits, no index)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.10g")


def save_npz(path: str | os.PathLike[str], **arrays: np.ndarray) -> None:
    """Save arrays to a compressed ``.npz`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, **arrays)


def _arrow_column(values: Any) -> Any:
    """One column of a table given as arrays, typed as ``pyarrow.Table.from_pandas`` types a DataFrame's: text as
    ``large_string``, NaN in a float column as null."""
    values = np.asarray(values)
    cells = values.tolist() if values.dtype.kind in "UO" else []
    if values.dtype.kind == "O" and all(v is None for v in cells):
        return pa.nulls(len(values))
    if values.dtype.kind == "U" or (cells and all(v is None or isinstance(v, str) for v in cells)):
        return pa.array(cells, type=pa.large_string())
    return pa.array(values, from_pandas=True)


def write_parquet(table: Any, path: str | os.PathLike[str], metadata: Mapping[str, Any]) -> None:
    """Write a table to Parquet atomically, with ``metadata`` as JSON in the schema metadata.

    ``table`` is a pandas DataFrame, or a mapping of column name to a 1-D array (in column order); both give the same
    column types, NaN in a float column stored as null alike. Same table and metadata give the same bytes (no
    timestamps are written).
    """

    if isinstance(table, Mapping):
        arrow = pa.table({str(name): _arrow_column(values) for name, values in table.items()})
    else:
        arrow = pa.Table.from_pandas(table, preserve_index=False)
    merged = dict(arrow.schema.metadata or {})
    merged[PARQUET_METADATA_KEY] = json.dumps(dict(metadata), sort_keys=True, default=_json_default).encode()
    arrow = arrow.replace_schema_metadata(merged)
    with atomic_path(path) as tmp:
        pq.write_table(arrow, tmp, compression="zstd")


def _read_arrow(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """A Parquet file as a pyarrow Table, and its ``latentwalk`` metadata record; errors name the file."""

    try:
        arrow = pq.ParquetFile(path).read()
    except (OSError, ValueError) as exc:
        raise LatentwalkError(f"{path}: cannot read table: {str(exc).splitlines()[0]}") from exc
    raw = (arrow.schema.metadata or {}).get(PARQUET_METADATA_KEY)
    return arrow, (json.loads(raw) if raw else {})


def read_parquet(path: str | os.PathLike[str]) -> tuple[Any, dict[str, Any]]:
    """Read a Parquet table (as pandas) and its ``latentwalk`` metadata record."""
    arrow, meta = _read_arrow(path)
    return arrow.to_pandas(), meta


def read_csv(path: str | os.PathLike[str]) -> Any:
    """Read a CSV table written by :func:`write_csv` (pandas), with a one-line error naming the file."""
    try:
        return pd.read_csv(path)
    except (OSError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else "empty file"
        raise LatentwalkError(f"{path}: cannot read CSV: {reason}") from exc
