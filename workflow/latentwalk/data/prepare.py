"""Rule prepare_data: build a dataset (scikit-learn's digits, the synthetic line benchmark, rendered object views or
MNIST) and its provenance record.

The line benchmark's renderers and angle convention are in :mod:`latentwalk.data.lines`, the object renderer of
``views`` and its camera conventions in :mod:`latentwalk.data.views`, MNIST's IDX files in :mod:`latentwalk.data.idx`.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.datasets import load_digits as _sk_load_digits

from latentwalk.core.io import (
    LatentwalkError,
    PathLike,
    provenance,
    sha256_file,
    write_json,
)
from latentwalk.core.logs import Log, quiet
from latentwalk.core.registry import DATASETS, LINE_RENDERERS, VIEW_OBJECTS
from latentwalk.data.custom import read_source
from latentwalk.data.dataset import (
    Dataset,
    check_test_fraction,
    save_dataset,
    split_indices,
    split_with_rng,
)
from latentwalk.data.idx import find_mnist_files, load_mnist_arrays
from latentwalk.data.lines import (
    LINES_DEFAULTS,
    draw_lines,
    positive_float,
    positive_int,
)
from latentwalk.data.views import OBJECT_COLOURS, colourise, render_views

__all__ = ["load_digits", "make_lines", "VIEWS_DEFAULTS", "make_views", "load_mnist", "load_source", "prepare_dataset", "prepare_data"]

_TAU = 2.0 * math.pi


# --------------------------------------------------------------------------- digits


def load_digits(test_fraction: float, seed: int) -> Dataset:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, offline).

    Pixel values 0..16 are scaled to float32 in [0, 1]; labels are int64 0..9;
    the split comes from :func:`split_indices`.
    """
    check_test_fraction(test_fraction)

    bunch = _sk_load_digits()
    images = (np.asarray(bunch.images, dtype=np.float64) / 16.0).astype(np.float32)
    labels = np.asarray(bunch.target, dtype=np.int64)
    split = split_indices(len(labels), test_fraction, seed)
    source = {
        "origin": "sklearn.datasets.load_digits",
        "scikit_learn": sklearn.__version__,
        "split_mode": "random",
        "test_fraction": float(test_fraction),
        "n_train": int(np.count_nonzero(split == "train")),
        "n_test": int(np.count_nonzero(split == "test")),
    }
    return Dataset(images=images, labels=labels, split=split, label_kind="class", source=source)


# --------------------------------------------------------------------------- lines


def make_lines(
    n: int,
    test_fraction: float,
    seed: int,
    size: int = 32,
    length: float = 15.0,
    width: float = 2.0,
    supersample: int = 8,
    renderer: str = "acai",
) -> Dataset:
    """The synthetic line benchmark: ``n`` lines at uniform random angles.

    Angles are drawn uniformly from [0, 2pi) by ``np.random.default_rng(seed)``;
    the same generator then draws the train/test split (exactly
    ``round(n * test_fraction)`` test items). Labels are the angles (float64,
    radians, ``label_kind == "angle"``); images come from :func:`draw_lines`:
    the published benchmark's renderer (``acai``: the segment's length is
    ``size/2 - 1`` and ``supersample`` is unused) or exact coverage (``coverage``).
    """
    n = positive_int("data.lines.n", n)
    check_test_fraction(test_fraction)
    rng = np.random.default_rng(seed)
    angles = rng.random(n) * _TAU
    angles = np.where(angles >= _TAU, 0.0, angles)  # guard the rounding edge: keep [0, 2pi)
    split = split_with_rng(n, test_fraction, rng)
    params = {"size": size, "length": length, "width": width, "supersample": supersample, "renderer": renderer}
    images = draw_lines(angles, params)
    acai = renderer == "acai"
    source = {
        "origin": "latentwalk.data.lines.render_lines_acai" if acai else "latentwalk.data.lines.render_lines",
        "renderer": renderer,
        "size": int(size),
        "length": float(size / 2 - 1) if acai else float(length),
        "width": float(width),
        **({} if acai else {"supersample": int(supersample)}),
        "angle_convention": "radians, counter-clockwise from +x, y up, from the image centre",
        "split_mode": "random",
        "test_fraction": float(test_fraction),
        "n_train": int(np.count_nonzero(split == "train")),
        "n_test": int(np.count_nonzero(split == "test")),
    }
    return Dataset(images=images, labels=angles.astype(np.float64), split=split, label_kind="angle", source=source)


# --------------------------------------------------------------------------- views

#: ``data.views`` defaults: image count and side, the objects, the elevation range (degrees), sub-samples per
#: pixel side, and the reference set of the quality metric (azimuths per object, elevations across the range).
VIEWS_DEFAULTS: dict[str, Any] = {
    "n": 2400,
    "size": 32,
    "objects": list(VIEW_OBJECTS),
    "elevation": [20.0, 20.0],
    "supersample": 4,
    "channels": 1,
    "reference_azimuths": 720,
    "reference_elevations": 5,
}


def make_views(test_fraction: float, seed: int, settings: Mapping[str, Any] | None = None) -> Dataset:
    """Renders of 3-D objects seen from random azimuths (:func:`latentwalk.data.views.render_views`), grey
    (``channels`` 1) or each object in its own colour (3, :func:`latentwalk.data.views.colourise`).

    ``settings`` are the ``data.views`` keys (:data:`VIEWS_DEFAULTS` fills the missing ones).
    ``np.random.default_rng(seed)`` draws, in this order, each image's object (the ``objects`` in equal shares,
    shuffled), its azimuth (uniform in [0, 2pi)), its elevation (uniform in the ``elevation`` range, degrees)
    and the train/test split. Labels are object ids (positions in :data:`VIEW_OBJECTS`); ``attributes`` hold
    azimuth and elevation in radians. ``references`` are the metric's dense renders: every object at
    ``reference_azimuths`` equally spaced azimuths and at ``reference_elevations`` elevations spread over the range
    (one when the range is a single value).
    """
    views = _views_params(settings or {})
    n, size, objects, supersample, channels = (views[k] for k in ("n", "size", "objects", "supersample", "channels"))
    elevation = views["elevation"]
    check_test_fraction(test_fraction)
    unknown = [o for o in objects if o not in VIEW_OBJECTS]
    if unknown or not objects or len(set(objects)) != len(objects):
        raise LatentwalkError(f"data.views.objects: {list(objects)!r} must be distinct names among {', '.join(VIEW_OBJECTS)}")
    lo, hi = (float(e) for e in elevation)
    if not -90.0 < lo <= hi < 90.0:
        raise LatentwalkError(f"data.views.elevation: {[lo, hi]!r} must be a range [lo, hi] within (-90, 90) degrees")
    ids = np.array([VIEW_OBJECTS.index(o) for o in objects], dtype=np.int64)
    rng = np.random.default_rng(seed)
    labels = ids[rng.permutation(np.arange(n) % len(ids))]
    azimuth = rng.random(n) * _TAU
    azimuth = np.where(azimuth >= _TAU, 0.0, azimuth)
    elev = np.radians(lo + (hi - lo) * rng.random(n))
    split = split_with_rng(n, test_fraction, rng)
    names = np.array(VIEW_OBJECTS)
    images = colourise(render_views(names[labels], azimuth, elev, size, supersample), names[labels], channels)
    ref_az = np.linspace(0.0, _TAU, positive_int("data.views.reference_azimuths", views["reference_azimuths"]),
                         endpoint=False)
    ref_el = np.radians(np.linspace(lo, hi, 1 if lo == hi else positive_int("data.views.reference_elevations",
                                                                              views["reference_elevations"])))
    r_obj, r_el, r_az = (a.ravel() for a in np.meshgrid(ids, ref_el, ref_az, indexing="ij"))
    references = {"images": colourise(render_views(names[r_obj], r_az, r_el, size, supersample), names[r_obj], channels),
                  "labels": r_obj,
                  "azimuth": r_az, "elevation": r_el}
    source = {
        "origin": "latentwalk.data.views.render_views",
        "size": int(size),
        "objects": list(objects),
        "object_ids": ids.tolist(),
        "elevation_degrees": [lo, hi],
        "supersample": int(supersample),
        "channels": int(channels),
        **({"colours": {o: list(OBJECT_COLOURS[o]) for o in objects}} if channels == 3 else {}),
        "reference_set": {"azimuths": len(ref_az), "elevations": len(ref_el), "images": len(r_obj)},
        "angle_convention": "radians; azimuth counter-clockwise seen from above, 0 = camera on +z; elevation above "
                            "the horizontal plane",
        "split_mode": "random",
        "test_fraction": float(test_fraction),
        "n_train": int(np.count_nonzero(split == "train")),
        "n_test": int(np.count_nonzero(split == "test")),
    }
    return Dataset(images=images, labels=labels, split=split, label_kind="object", source=source,
                   attributes={"azimuth": azimuth, "elevation": elev}, references=references)


# --------------------------------------------------------------------------- mnist


def load_mnist(directory: str | os.PathLike[str], test_fraction: float, seed: int) -> Dataset:
    """MNIST from the IDX files in ``directory``.

    With the training files present the standard split is used (training files
    -> ``"train"``, t10k -> ``"test"``; ``test_fraction`` is then unused). With
    only the t10k files, those 10,000 images are split by :func:`split_indices`.
    Images become float32 in [0, 1] (``uint8 / 255``), labels int64.

    ``source`` records each file's name and SHA-256 and the split mode
    (``"standard"`` or ``"random"``).
    """
    check_test_fraction(test_fraction)
    files = find_mnist_files(directory)
    train_images, train_labels, test_images, test_labels = load_mnist_arrays(files)
    if train_images is not None and train_labels is not None:
        if train_images.shape[1:] != test_images.shape[1:]:
            raise LatentwalkError(
                f"{files['train_images']}: image size {train_images.shape[1:]} differs from "
                f"{files['test_images']} {test_images.shape[1:]}"
            )
        images_u8 = np.concatenate([train_images, test_images])
        labels = np.concatenate([train_labels, test_labels]).astype(np.int64)
        split = np.array(["train"] * len(train_labels) + ["test"] * len(test_labels), dtype="<U5")
        mode = "standard"
    else:
        images_u8 = test_images
        labels = test_labels.astype(np.int64)
        split = split_indices(len(labels), test_fraction, seed)
        mode = "random"
    images = images_u8.astype(np.float32) / np.float32(255.0)
    source: dict[str, Any] = {
        "origin": "mnist idx",
        "files": {Path(p).name: sha256_file(p) for _, p in sorted(files.items())},
        "split_mode": mode,
        "n_train": int(np.count_nonzero(split == "train")),
        "n_test": int(np.count_nonzero(split == "test")),
    }
    if mode == "random":
        source["test_fraction"] = float(test_fraction)
    return Dataset(images=images, labels=labels, split=split, label_kind="class", source=source)


# --------------------------------------------------------------------------- your own images


def load_source(name: str, settings: Mapping[str, Any], test_fraction: float, seed: int, log: Log = quiet) -> Dataset:
    """A dataset of your own (:func:`latentwalk.data.custom.read_source`): uint8 images ``(N, size, size, channels)``,
    class labels (``label_kind`` ``class``) or none (``none``, labels -1), the seeded split of :func:`split_indices`,
    and every source file's SHA-256 in ``source["files"]``."""
    check_test_fraction(test_fraction)
    found = read_source(name, settings, log)
    n = len(found.images)
    if n < 4:
        raise LatentwalkError(f"data.sources.{name}: {n} image(s); a dataset needs at least 4 (train and test pairs)")
    split = split_indices(n, test_fraction, seed)
    labelled = found.labels is not None
    labels = found.labels if labelled else np.full(n, -1, dtype=np.int64)
    source = {"origin": "data.sources", "path": str(settings["path"]), "size": int(settings["size"]),
              "channels": int(settings["channels"]), "classes": list(found.classes), "converted": found.converted,
              "files": found.files, "split_mode": "random", "test_fraction": float(test_fraction),
              "n_train": int(np.count_nonzero(split == "train")), "n_test": int(np.count_nonzero(split == "test"))}
    return Dataset(images=found.images, labels=labels, split=split, label_kind="class" if labelled else "none",
                   source=source, attributes=found.attributes)


# --------------------------------------------------------------------------- dispatch and storage


def _lines_params(params: Mapping[str, Any]) -> dict[str, Any]:
    given = params.get("lines") or {}
    if not isinstance(given, Mapping):
        raise LatentwalkError(f"data.lines must be a mapping, got {type(given).__name__}")
    unknown = sorted(set(given) - set(LINES_DEFAULTS))
    if unknown:
        raise LatentwalkError(
            f"data.lines.{unknown[0]}: unknown key (allowed: {', '.join(sorted(LINES_DEFAULTS))})"
        )
    merged = {**LINES_DEFAULTS, **given}
    return {
        "n": positive_int("data.lines.n", merged["n"]),
        "size": positive_int("data.lines.size", merged["size"]),
        "length": positive_float("data.lines.length", merged["length"]),
        "width": positive_float("data.lines.width", merged["width"]),
        "supersample": positive_int("data.lines.supersample", merged["supersample"]),
        "renderer": _renderer(merged["renderer"]),
    }


def _renderer(value: Any) -> str:
    if value not in LINE_RENDERERS:
        raise LatentwalkError(f"data.lines.renderer: {value!r} is not allowed; allowed values: "
                              + ", ".join(map(repr, LINE_RENDERERS)))
    return str(value)


def _views_params(given: Any) -> dict[str, Any]:
    """The ``data.views`` settings merged with :data:`VIEWS_DEFAULTS`, their shapes checked (one key named per error)."""
    if not isinstance(given, Mapping):
        raise LatentwalkError(f"data.views must be a mapping, got {type(given).__name__}")
    unknown = sorted(set(given) - set(VIEWS_DEFAULTS))
    if unknown:
        raise LatentwalkError(f"data.views.{unknown[0]}: unknown key (allowed: {', '.join(sorted(VIEWS_DEFAULTS))})")
    merged = {**VIEWS_DEFAULTS, **given}
    elevation = merged["elevation"]
    if not isinstance(elevation, (list, tuple)) or len(elevation) != 2:
        raise LatentwalkError(f"data.views.elevation: {elevation!r} must be a range [lo, hi] in degrees")
    if merged["channels"] not in (1, 3):
        raise LatentwalkError(f"data.views.channels: {merged['channels']!r} must be 1 or 3")
    return {**merged, "n": positive_int("data.views.n", merged["n"]), "size": positive_int("data.views.size", merged["size"]),
            "objects": list(merged["objects"]), "elevation": list(elevation),
            "supersample": positive_int("data.views.supersample", merged["supersample"])}


def prepare_dataset(name: str, params: Mapping[str, Any], seed: int, log: Log = quiet) -> Dataset:
    """Build the named dataset from the config's ``data`` section.

    Args:
        name: one of :data:`~latentwalk.core.registry.DATASETS` (``digits``, ``lines``, ``mnist``, ``views``), or
            a source's name when ``params["source"]`` holds its ``data.sources`` entry.
        params: the ``data`` section, e.g. ``{"test_fraction": 0.2, "lines": {"n": 10000,
            "size": 32, "length": 15.0, "width": 2.0, "supersample": 8}, "mnist": {"dir": "..."}}``.
            ``test_fraction`` defaults to 0.2 and the ``lines`` keys to the values shown;
            ``mnist.dir`` is required for ``mnist``.
        seed: the seed for angles and splits.

    Raises:
        LatentwalkError: unknown name (listing the allowed ones) or a bad parameter (naming its key).
    """
    test_fraction = params.get("test_fraction", 0.2)
    if "source" in params:
        return load_source(name, params["source"], test_fraction, seed, log)
    if name not in DATASETS:
        raise LatentwalkError(f"unknown dataset {name!r} (allowed: {', '.join(DATASETS)}, or a data.sources entry)")
    if name == "digits":
        return load_digits(test_fraction, seed)
    if name == "lines":
        return make_lines(test_fraction=test_fraction, seed=seed, **_lines_params(params))
    if name == "views":
        return make_views(test_fraction, seed, params.get("views") or {})
    mnist = params.get("mnist") or {}
    directory = mnist.get("dir") if isinstance(mnist, Mapping) else None
    if not directory:
        raise LatentwalkError("data.mnist.dir: required for the mnist dataset (the folder holding the IDX files)")
    return load_mnist(directory, test_fraction, seed)


def prepare_data(name: str, params: Mapping[str, Any], seed: int, out_npz: PathLike, out_json: PathLike, inputs: list[str], log: Log = quiet) -> None:
    """Build dataset ``name`` and write ``{name}.npz`` plus its provenance JSON."""
    start = time.perf_counter()
    dataset = prepare_dataset(name, params, seed, log)
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
