"""Dataset construction: scikit-learn digits, the synthetic line benchmark, MNIST, rendered object views.

Numpy only at import time; scikit-learn is imported inside :func:`load_digits`.
Every dataset is a :class:`Dataset` of float32 images in [0, 1] with a
seeded train/test split, saved as a compressed ``.npz``.

The line benchmark's renderers and its angle convention are in :mod:`latentwalk.lines`;
the object renderer of ``views`` and its camera conventions in :mod:`latentwalk.views`.
"""

from __future__ import annotations

import math
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .idx import find_mnist_files, load_mnist_arrays
from .io import LatentwalkError, save_npz, sha256_file
from .lines import LINES_DEFAULTS, _positive_float, _positive_int, draw_lines, render_lines, render_lines_acai
from .registry import DATASETS, LINE_RENDERERS, VIEW_OBJECTS

__all__ = [
    "Dataset",
    "DATASET_NAMES",
    "split_indices",
    "load_digits",
    "render_lines",
    "render_lines_acai",
    "draw_lines",
    "make_lines",
    "VIEWS_DEFAULTS",
    "make_views",
    "load_references",
    "load_mnist",
    "prepare_dataset",
    "save_dataset",
    "load_dataset",
]

#: Names accepted by :func:`prepare_dataset` (the registry's datasets).
DATASET_NAMES: tuple[str, ...] = tuple(DATASETS)

_TAU = 2.0 * math.pi
_LABEL_KINDS = ("class", "angle", "object")
_SPLITS = ("train", "test")
_NPZ_KEYS = ("images", "labels", "split", "label_kind")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images with labels and a train/test split.

    Attributes:
        images: float32, shape (N, H, W), values in [0, 1].
        labels: int64 class ids (``label_kind == "class"``: digits, mnist),
            float64 angles in radians in [0, 2pi) (``"angle"``: lines) or int64
            object ids, positions in :data:`~latentwalk.registry.VIEW_OBJECTS` (``"object"``: views).
        split: unicode array of ``"train"`` / ``"test"``, shape (N,).
        label_kind: ``"class"``, ``"angle"`` or ``"object"``.
        source: JSON-serialisable provenance extras (files and checksums,
            split mode, counts).
        attributes: further per-image labels, each shape (N,) (views: ``azimuth`` and
            ``elevation`` in radians); stored as ``attr_<name>``.
        references: the dataset's ground-truth reference set, if it has one (views: dense
            renders of every object, keys ``images``, ``labels``, ``azimuth``, ``elevation``);
            stored as ``ref_<name>`` and read by :func:`load_references`.

    ``eq=False``: arrays make field-wise ``==`` ambiguous; compare arrays explicitly.
    """

    images: np.ndarray
    labels: np.ndarray
    split: np.ndarray
    label_kind: str
    source: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    references: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.label_kind not in _LABEL_KINDS:
            allowed = ", ".join(_LABEL_KINDS)
            raise LatentwalkError(f"Dataset: label_kind {self.label_kind!r} is not one of {allowed}")
        if self.images.ndim != 3:
            raise LatentwalkError(f"Dataset: images must be (N, H, W), got shape {self.images.shape}")
        n = self.images.shape[0]
        if self.labels.shape != (n,) or self.split.shape != (n,):
            raise LatentwalkError(
                f"Dataset: {n} images but labels shape {self.labels.shape} and split shape {self.split.shape}"
            )
        for key, values in self.attributes.items():
            if np.shape(values) != (n,):
                raise LatentwalkError(f"Dataset: {n} images but attribute {key!r} has shape {np.shape(values)}")
        bad = np.setdiff1d(np.unique(self.split), np.array(_SPLITS))
        if bad.size:
            raise LatentwalkError(f"Dataset: split values must be 'train' or 'test', found {bad.tolist()}")

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return int(np.count_nonzero(self.split == "train"))

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return int(np.count_nonzero(self.split == "test"))


# --------------------------------------------------------------------------- splits


def _check_test_fraction(test_fraction: float) -> float:
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.integer, np.floating)):
        raise LatentwalkError(f"data.test_fraction must be a number in (0, 1), got {test_fraction!r}")
    value = float(test_fraction)
    if not 0.0 < value < 1.0:  # also rejects NaN
        raise LatentwalkError(f"data.test_fraction must be in (0, 1), got {test_fraction!r}")
    return value


def _split_with_rng(n: int, test_fraction: float, rng: np.random.Generator) -> np.ndarray:
    fraction = _check_test_fraction(test_fraction)
    if n < 2:
        raise LatentwalkError(f"cannot split {n} example(s) into train and test")
    n_test = int(round(n * fraction))
    if not 0 < n_test < n:
        raise LatentwalkError(
            f"data.test_fraction={test_fraction!r} gives {n_test} test examples out of {n}; "
            "both train and test need at least one"
        )
    split = np.full(n, "train", dtype="<U5")
    split[rng.permutation(n)[:n_test]] = "test"
    return split


def split_indices(n: int, test_fraction: float, seed: int) -> np.ndarray:
    """Seeded random train/test split of ``n`` items.

    Exactly ``round(n * test_fraction)`` items are ``"test"``, chosen by a
    permutation from ``np.random.default_rng(seed)``; the rest are ``"train"``.

    Returns:
        A unicode array (``<U5``) of ``"train"`` / ``"test"``, shape (n,).

    Raises:
        LatentwalkError: ``test_fraction`` not in (0, 1) (naming ``data.test_fraction``),
            or a fraction that leaves one side empty.
    """
    return _split_with_rng(int(n), test_fraction, np.random.default_rng(seed))


# --------------------------------------------------------------------------- digits


def load_digits(test_fraction: float, seed: int) -> Dataset:
    """scikit-learn's bundled 8x8 handwritten digits (1,797 images, offline).

    Pixel values 0..16 are scaled to float32 in [0, 1]; labels are int64 0..9;
    the split comes from :func:`split_indices`.
    """
    _check_test_fraction(test_fraction)
    import sklearn
    from sklearn.datasets import load_digits as _sk_load_digits

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
    n = _positive_int("data.lines.n", n)
    _check_test_fraction(test_fraction)
    rng = np.random.default_rng(seed)
    angles = rng.random(n) * _TAU
    angles = np.where(angles >= _TAU, 0.0, angles)  # guard the rounding edge: keep [0, 2pi)
    split = _split_with_rng(n, test_fraction, rng)
    params = {"size": size, "length": length, "width": width, "supersample": supersample, "renderer": renderer}
    images = draw_lines(angles, params)
    acai = renderer == "acai"
    source = {
        "origin": "latentwalk.lines.render_lines_acai" if acai else "latentwalk.lines.render_lines",
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
    "reference_azimuths": 720,
    "reference_elevations": 5,
}


def make_views(
    n: int,
    test_fraction: float,
    seed: int,
    size: int = 32,
    objects: list[str] | tuple[str, ...] = VIEW_OBJECTS,
    elevation: tuple[float, float] | list[float] = (20.0, 20.0),
    supersample: int = 4,
    reference_azimuths: int = 720,
    reference_elevations: int = 5,
) -> Dataset:
    """Grey-scale renders of 3-D objects seen from random azimuths (:func:`latentwalk.views.render_views`).

    ``np.random.default_rng(seed)`` draws, in this order, each image's object (the ``objects`` in equal shares,
    shuffled), its azimuth (uniform in [0, 2pi)), its elevation (uniform in the ``elevation`` range, degrees)
    and the train/test split. Labels are object ids (positions in :data:`VIEW_OBJECTS`); ``attributes`` hold
    azimuth and elevation in radians. ``references`` are the metric's dense renders: every object at
    ``reference_azimuths`` equally spaced azimuths and at ``reference_elevations`` elevations spread over the
    range (one when the range is a single value).
    """
    from .views import render_views

    n = _positive_int("data.views.n", n)
    _check_test_fraction(test_fraction)
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
    split = _split_with_rng(n, test_fraction, rng)
    names = np.array(VIEW_OBJECTS)
    images = render_views(names[labels], azimuth, elev, size, supersample)
    ref_az = np.linspace(0.0, _TAU, _positive_int("data.views.reference_azimuths", reference_azimuths), endpoint=False)
    ref_el = np.radians(np.linspace(lo, hi, 1 if lo == hi else _positive_int("data.views.reference_elevations",
                                                                                reference_elevations)))
    r_obj, r_el, r_az = (a.ravel() for a in np.meshgrid(ids, ref_el, ref_az, indexing="ij"))
    references = {"images": render_views(names[r_obj], r_az, r_el, size, supersample), "labels": r_obj,
                  "azimuth": r_az, "elevation": r_el}
    source = {
        "origin": "latentwalk.views.render_views",
        "size": int(size),
        "objects": list(objects),
        "object_ids": ids.tolist(),
        "elevation_degrees": [lo, hi],
        "supersample": int(supersample),
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
    _check_test_fraction(test_fraction)
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
        "n": _positive_int("data.lines.n", merged["n"]),
        "size": _positive_int("data.lines.size", merged["size"]),
        "length": _positive_float("data.lines.length", merged["length"]),
        "width": _positive_float("data.lines.width", merged["width"]),
        "supersample": _positive_int("data.lines.supersample", merged["supersample"]),
        "renderer": _renderer(merged["renderer"]),
    }


def _renderer(value: Any) -> str:
    if value not in LINE_RENDERERS:
        raise LatentwalkError(f"data.lines.renderer: {value!r} is not allowed; allowed values: "
                              + ", ".join(map(repr, LINE_RENDERERS)))
    return str(value)


def _views_params(params: Mapping[str, Any]) -> dict[str, Any]:
    given = params.get("views") or {}
    if not isinstance(given, Mapping):
        raise LatentwalkError(f"data.views must be a mapping, got {type(given).__name__}")
    unknown = sorted(set(given) - set(VIEWS_DEFAULTS))
    if unknown:
        raise LatentwalkError(f"data.views.{unknown[0]}: unknown key (allowed: {', '.join(sorted(VIEWS_DEFAULTS))})")
    merged = {**VIEWS_DEFAULTS, **given}
    elevation = merged["elevation"]
    if not isinstance(elevation, (list, tuple)) or len(elevation) != 2:
        raise LatentwalkError(f"data.views.elevation: {elevation!r} must be a range [lo, hi] in degrees")
    return {"n": merged["n"], "size": _positive_int("data.views.size", merged["size"]), "objects": list(merged["objects"]),
            "elevation": list(elevation), "supersample": _positive_int("data.views.supersample", merged["supersample"]),
            "reference_azimuths": merged["reference_azimuths"], "reference_elevations": merged["reference_elevations"]}


def prepare_dataset(name: str, params: Mapping[str, Any], seed: int) -> Dataset:
    """Build the named dataset from the config's ``data`` section.

    Args:
        name: one of :data:`DATASET_NAMES` (``digits``, ``lines``, ``mnist``).
        params: the ``data`` section, e.g. ``{"test_fraction": 0.2, "lines": {"n": 10000,
            "size": 32, "length": 15.0, "width": 2.0, "supersample": 8}, "mnist": {"dir": "..."}}``.
            ``test_fraction`` defaults to 0.2 and the ``lines`` keys to the values shown;
            ``mnist.dir`` is required for ``mnist``.
        seed: the seed for angles and splits.

    Raises:
        LatentwalkError: unknown name (listing the allowed ones) or a bad parameter (naming its key).
    """
    if name not in DATASET_NAMES:
        raise LatentwalkError(f"unknown dataset {name!r} (allowed: {', '.join(DATASET_NAMES)})")
    test_fraction = params.get("test_fraction", 0.2)
    if name == "digits":
        return load_digits(test_fraction, seed)
    if name == "lines":
        return make_lines(test_fraction=test_fraction, seed=seed, **_lines_params(params))
    if name == "views":
        return make_views(test_fraction=test_fraction, seed=seed, **_views_params(params))
    mnist = params.get("mnist") or {}
    directory = mnist.get("dir") if isinstance(mnist, Mapping) else None
    if not directory:
        raise LatentwalkError("data.mnist.dir: required for the mnist dataset (the folder holding the IDX files)")
    return load_mnist(directory, test_fraction, seed)


def save_dataset(ds: Dataset, path: str | os.PathLike[str]) -> None:
    """Save a dataset to a compressed ``.npz`` atomically.

    Arrays: ``images``, ``labels``, ``split`` and ``label_kind`` (a 0-d string
    array), ``attr_<name>`` per attribute and ``ref_<name>`` for the reference set.
    ``source`` is not stored here; it belongs in the provenance JSON.
    """
    save_npz(
        path,
        images=np.asarray(ds.images),
        labels=np.asarray(ds.labels),
        split=np.asarray(ds.split, dtype=str),
        label_kind=np.array(ds.label_kind),
        **{f"attr_{k}": np.asarray(v) for k, v in ds.attributes.items()},
        **{f"ref_{k}": np.asarray(v) for k, v in ds.references.items()},
    )


def load_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Load a dataset written by :func:`save_dataset` (``source`` is empty).

    Raises:
        LatentwalkError: missing or unreadable file, or a missing key (naming the file and key).
    """
    path = Path(path)
    if not path.is_file():
        raise LatentwalkError(f"{path}: dataset file not found")
    try:
        with np.load(path, allow_pickle=False) as data:
            for key in _NPZ_KEYS:
                if key not in data.files:
                    raise LatentwalkError(f"{path}: missing key {key!r} in dataset file")
            arrays = {key: data[key] for key in _NPZ_KEYS}
            attributes = {key[5:]: data[key] for key in data.files if key.startswith("attr_")}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        message = f"{path}: cannot read dataset file ({type(exc).__name__}: {exc})"
        raise LatentwalkError(" ".join(message.split())) from exc
    try:
        return Dataset(
            images=arrays["images"],
            labels=arrays["labels"],
            split=arrays["split"],
            label_kind=str(arrays["label_kind"]),
            source={},
            attributes=attributes,
        )
    except LatentwalkError as exc:
        raise LatentwalkError(f"{path}: {exc}") from exc


def load_references(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The reference set stored with a dataset (views: ``images``, ``labels``, ``azimuth``, ``elevation``).

    Raises:
        LatentwalkError: the file has no reference set (naming the file).
    """
    with np.load(path, allow_pickle=False) as data:
        refs = {key[4:]: data[key] for key in data.files if key.startswith("ref_")}
    if not refs:
        raise LatentwalkError(f"{path}: this dataset file has no reference set (only views data has one)")
    return refs
