"""Stage prepare_data: build a dataset and its provenance record."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from ..io import PathLike, provenance, sha256_file, write_json
from ..logs import Log, quiet


def prepare_data(name: str, params: Mapping[str, Any], seed: int, out_npz: PathLike, out_json: PathLike, inputs: list[str], log: Log = quiet) -> None:
    """Build dataset ``name`` and write ``{name}.npz`` plus its provenance JSON."""
    from ..datasets import prepare_dataset, save_dataset

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
        },
    )
    write_json(out_json, record)
    log(f"wrote {out_npz} in {time.perf_counter() - start:.1f}s")
