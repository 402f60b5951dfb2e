"""The dataset every run trains on: a :class:`Dataset` of images ``(N, H, W, C)`` (float32 in [0, 1] or uint8) with
labels and a seeded train/test split, stored as a compressed ``.npz`` (how each is built: :mod:`latentwalk.data.prepare`)."""

from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from latentwalk.core.io import LatentwalkError, save_npz
from latentwalk.core.registry import VIEW_OBJECTS

__all__ = ["Dataset", "CHANNELS", "as_float", "check_test_fraction", "split_with_rng", "split_indices", "save_dataset", "load_dataset",
           "load_references"]

_LABEL_KINDS = ("class", "angle", "object", "none")
_SPLITS = ("train", "test")
_NPZ_KEYS = ("images", "labels", "split", "label_kind")
#: Channels an image can have: 1 (grey) or 3 (RGB).
CHANNELS: tuple[int, ...] = (1, 3)


def as_float(images: np.ndarray) -> np.ndarray:
    """Images as float32 in [0, 1]: uint8 divided by 255, float32 as they are (no copy), other floats converted."""
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    return np.asarray(images, dtype=np.float32)


@dataclass(frozen=True, eq=False)
class Dataset:
    """Images with labels and a train/test split.

    Attributes:
        images: shape (N, H, W, C) with C 1 (grey) or 3 (RGB): float32 in [0, 1], or uint8 (0..255, the compact
            form of image sources; :func:`as_float` reads them as floats). Grey images given as (N, H, W) get
            their channel axis here.
        labels: int64 class ids (``label_kind == "class"``: digits, mnist),
            float64 angles in radians in [0, 2pi) (``"angle"``: lines) or int64
            object ids, positions in :data:`~latentwalk.core.registry.VIEW_OBJECTS` (``"object"``: views).
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
        if self.images.ndim == 3:
            object.__setattr__(self, "images", self.images[..., None])
        if self.images.ndim != 4 or self.images.shape[3] not in CHANNELS:
            raise LatentwalkError(f"Dataset: images must be (N, H, W, C) with C 1 or 3, got shape {self.images.shape}")
        if np.issubdtype(self.images.dtype, np.floating) and self.images.dtype != np.float32:
            object.__setattr__(self, "images", self.images.astype(np.float32))
        if self.images.dtype not in (np.float32, np.uint8):
            raise LatentwalkError(f"Dataset: images must be float32 or uint8, got {self.images.dtype}")
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

    @property
    def label_names(self) -> list[str] | None:
        """The name of each label, by id, where labels have names: the objects of views, the class folders of an
        image source (``source["classes"]``); None otherwise (digits are their own names)."""
        if self.label_kind == "object":
            return list(VIEW_OBJECTS)
        classes = self.source.get("classes")
        return [str(name) for name in classes] if classes else None


# --------------------------------------------------------------------------- splits


def check_test_fraction(test_fraction: float) -> float:
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float, np.integer, np.floating)):
        raise LatentwalkError(f"data.test_fraction must be a number in (0, 1), got {test_fraction!r}")
    value = float(test_fraction)
    if not 0.0 < value < 1.0:  # also rejects NaN
        raise LatentwalkError(f"data.test_fraction must be in (0, 1), got {test_fraction!r}")
    return value


def split_with_rng(n: int, test_fraction: float, rng: np.random.Generator) -> np.ndarray:
    fraction = check_test_fraction(test_fraction)
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
    return split_with_rng(int(n), test_fraction, np.random.default_rng(seed))


def save_dataset(ds: Dataset, path: str | os.PathLike[str]) -> None:
    """Save a dataset to a compressed ``.npz`` atomically.

    Arrays: ``images``, ``labels``, ``split`` and ``label_kind`` (a 0-d string
    array), ``attr_<name>`` per attribute, ``ref_<name>`` for the reference set and, for an image source with class
    folders, ``classes`` (their names, by label). The rest of ``source`` belongs in the provenance JSON.
    """
    classes = ds.source.get("classes")
    save_npz(
        path,
        images=np.asarray(ds.images),
        labels=np.asarray(ds.labels),
        split=np.asarray(ds.split, dtype=str),
        label_kind=np.array(ds.label_kind),
        **{f"attr_{k}": np.asarray(v) for k, v in ds.attributes.items()},
        **{f"ref_{k}": np.asarray(v) for k, v in ds.references.items()},
        **({"classes": np.asarray(classes, dtype=str)} if classes else {}),
    )


def load_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Load a dataset written by :func:`save_dataset` (``source`` holds only the ``classes`` stored with it).

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
            classes = data["classes"].tolist() if "classes" in data.files else []
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        message = f"{path}: cannot read dataset file ({type(exc).__name__}: {exc})"
        raise LatentwalkError(" ".join(message.split())) from exc
    try:
        return Dataset(
            images=arrays["images"],
            labels=arrays["labels"],
            split=arrays["split"],
            label_kind=str(arrays["label_kind"]),
            source={"classes": classes} if classes else {},
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
