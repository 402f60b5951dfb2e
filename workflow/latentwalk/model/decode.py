"""Rule decode: decode every path table of a run with its decoder (loaded once)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentwalk.core.io import LatentwalkError, PathLike, atomic_dir, method_files, read_parquet, save_npz
from latentwalk.core.logs import Log, quiet
from latentwalk.model.checkpoint import load_run_model
from latentwalk.model.external import check_finite
from latentwalk.model.networks import resolve_device, to_frames, use_threads

__all__ = ["decode_paths"]


def decode_paths(
    paths_dir: PathLike,
    methods: Sequence[str],
    model_files: Mapping[str, PathLike],
    batch_size: int,
    device: str,
    out_dir: PathLike,
    log: Log = quiet,
    threads: int = 1,
) -> None:
    """Decode every path table of one run: ``out_dir/{method}.npz`` per ``paths_dir/{method}.parquet``.

    Each npz holds ``images`` (n_paths, steps, H, W, C) float32 in [0, 1],
    ``path_id`` (n_paths,) and ``step`` (steps,), in the table's order. The
    directory appears whole or not at all. ``model_files``: the run's ``meta`` with its ``model`` or an external
    model's ``encoder`` and ``decoder`` (:func:`~latentwalk.model.checkpoint.load_run_model`); torch runs on
    ``threads`` threads.
    """
    tables = method_files(paths_dir, methods, ".parquet")
    use_threads(threads)
    torch_device = resolve_device(device)
    model, spec = load_run_model(model_files, torch_device)
    with atomic_dir(out_dir) as tmp:
        for method, table_path in zip(methods, tables):
            _decode_table(model, spec, table_path, Path(tmp, f"{method}.npz"), batch_size, torch_device, log)


def _decode_table(model: Any, spec: Any, table_path: Path, out: Path, batch_size: int, torch_device: Any, log: Log) -> None:
    """Decode one path table (sorted by path and step) into one npz."""
    start = time.perf_counter()
    frame, _ = read_parquet(table_path)
    z_cols = sorted((c for c in frame.columns if c.startswith("z_")), key=lambda c: int(c[2:]))
    if len(z_cols) != spec.latent_dim:
        raise LatentwalkError(f"{table_path}: paths are {len(z_cols)}-D but the model's latent dim is {spec.latent_dim}")
    frame = frame.sort_values(["path_id", "step"], kind="stable")
    path_ids, counts = np.unique(frame["path_id"], return_counts=True)
    n_steps = np.unique(counts)
    if len(n_steps) != 1:
        raise LatentwalkError(f"{table_path}: paths have different step counts {n_steps.tolist()}")
    z = np.column_stack([frame[c] for c in z_cols]).astype(np.float32)
    chunks = []
    with torch.inference_mode():
        for k, first in enumerate(range(0, len(z), batch_size)):
            decoded = model.decode(torch.tensor(z[first : first + batch_size], device=torch_device))
            check_finite(decoded, model, "decoder", k, first)
            chunks.append(to_frames(decoded))
    images = np.concatenate(chunks).reshape(len(path_ids), int(n_steps[0]), *chunks[0].shape[1:])
    save_npz(out, images=images.astype(np.float32), path_id=path_ids.astype(np.int64), step=np.arange(int(n_steps[0])))
    log(f"decoded {table_path.name}: {images.shape[0]} paths x {images.shape[1]} steps in {time.perf_counter() - start:.2f}s")
