"""Datasets of your own (config ``data.sources``): a folder of PNG/JPEG images or an ``.npz`` file, read into
``(N, size, size, channels)`` uint8 images with the SHA-256 of every source file.

A folder is read in a deterministic order: its image files sorted by their path relative to the folder (POSIX
separators, byte order). When the folder has subfolders holding images, each image's class is its first-level
subfolder (class ids follow the sorted folder names) and no image may sit at the top level; otherwise the images
have no labels. Every image is converted to the source's mode (``L`` grey for 1 channel, ``RGB`` for 3; an alpha
channel is composited on black) and resized to ``size`` x ``size`` (Pillow's bicubic filter, the aspect ratio not
kept); how many needed each is logged in one line. An ``.npz`` holds ``images`` ``(N, H, W)`` or ``(N, H, W, C)``
(uint8, or floats in [0, 1]), optionally ``labels`` ``(N,)`` (integers: classes) and further ``(N,)`` arrays, the
attributes (stored like the views' azimuths).
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from latentwalk.core.io import LatentwalkError, sha256_file

__all__ = ["IMAGE_SUFFIXES", "SourceImages", "image_files", "read_folder", "read_npz", "read_source"]

#: File name endings read from an image folder (case-insensitive).
IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg")
_MODES = {1: "L", 3: "RGB"}


@dataclass(frozen=True, eq=False)
class SourceImages:
    """What a source yields: ``images`` uint8 ``(N, size, size, channels)``, ``labels`` (int64 class ids, or None),
    ``classes`` (the class names, by id), ``attributes`` (further per-image arrays), ``files`` (each source file,
    relative to the source's path for a folder, with its SHA-256) and ``converted`` (how many images needed a
    mode conversion, a resize)."""

    images: np.ndarray
    labels: np.ndarray | None
    classes: tuple[str, ...] = ()
    attributes: dict[str, np.ndarray] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    converted: dict[str, int] = field(default_factory=dict)


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The image files under ``folder`` (any depth), sorted by relative POSIX path; hidden files and folders skipped."""
    root = Path(folder)
    found = []
    for directory, subdirs, names in os.walk(root):
        subdirs[:] = sorted(d for d in subdirs if not d.startswith("."))
        found += [Path(directory, n) for n in names if not n.startswith(".") and n.lower().endswith(IMAGE_SUFFIXES)]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix().encode())


def _to_array(image: Image.Image, size: int, mode: str, counts: dict[str, int]) -> np.ndarray:
    """One image in ``mode`` at ``size`` x ``size`` as uint8 ``(size, size, channels)``; counts what it changed."""
    if image.mode != mode:
        counts["mode"] += 1
        if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            black = Image.new("RGBA", rgba.size, (0, 0, 0, 255))
            image = Image.alpha_composite(black, rgba)
        image = image.convert(mode)
    if image.size != (size, size):
        counts["size"] += 1
        image = image.resize((size, size), Image.Resampling.BICUBIC)
    array = np.asarray(image, dtype=np.uint8)
    return array[..., None] if array.ndim == 2 else array


def read_folder(folder: str | os.PathLike[str], size: int, channels: int, what: str = "data.sources") -> SourceImages:
    """Read an image folder (see the module docstring); ``what`` names the source in errors.

    Raises:
        LatentwalkError: no such folder, no image in it, images both at the top level and in class folders, or a
            file Pillow cannot read (naming it).
    """
    root = Path(folder)
    if not root.is_dir():
        raise LatentwalkError(f"{what}: {root} is not a folder")
    files = image_files(root)
    if not files:
        raise LatentwalkError(f"{what}: {root} holds no image ({', '.join(IMAGE_SUFFIXES)} files)")
    relative = [f.relative_to(root) for f in files]
    nested = [len(r.parts) > 1 for r in relative]
    if any(nested) and not all(nested):
        top = next(r for r, n in zip(relative, nested) if not n)
        raise LatentwalkError(f"{what}: {root / top} sits at the top level of a folder with class subfolders; move it "
                              "into one")
    mode = _MODES[channels]
    counts = {"mode": 0, "size": 0}
    images = np.empty((len(files), size, size, channels), dtype=np.uint8)
    digests = {}
    for k, (path, rel) in enumerate(zip(files, relative)):
        try:
            data = path.read_bytes()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                images[k] = _to_array(image, size, mode, counts)
        except (OSError, UnidentifiedImageError, ValueError, Image.DecompressionBombError) as exc:
            raise LatentwalkError(f"{what}: cannot read image {path} ({type(exc).__name__}: {exc})") from exc
        digests[rel.as_posix()] = hashlib.sha256(data).hexdigest()
    labels, classes = None, ()
    if all(nested):
        classes = tuple(sorted({r.parts[0] for r in relative}, key=str.encode))
        index = {name: i for i, name in enumerate(classes)}
        labels = np.array([index[r.parts[0]] for r in relative], dtype=np.int64)
    return SourceImages(images, labels, classes, {}, digests, counts)


def _resize_array(images: np.ndarray, size: int, channels: int, counts: dict[str, int]) -> np.ndarray:
    """uint8 ``(N, H, W, C)`` converted to ``channels`` and resized like folder images (through Pillow)."""
    n, h, w, c = images.shape
    if c == channels and (h, w) == (size, size):
        return images
    out = np.empty((n, size, size, channels), dtype=np.uint8)
    for k in range(n):
        image = Image.fromarray(images[k, ..., 0] if c == 1 else images[k], "L" if c == 1 else "RGB")
        out[k] = _to_array(image, size, _MODES[channels], counts)
    return out


def read_npz(path: str | os.PathLike[str], size: int, channels: int, what: str = "data.sources") -> SourceImages:
    """Read an ``.npz`` source (see the module docstring); ``what`` names the source in errors.

    Raises:
        LatentwalkError: an unreadable file, no ``images``, images of another shape or range, or a ``labels`` or
            attribute array whose length differs (naming the file and the array).
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise LatentwalkError(f"{what}: cannot read {path} ({type(exc).__name__}: {exc})") from exc
    if "images" not in arrays:
        raise LatentwalkError(f"{what}: {path} has no array 'images' (found: {', '.join(sorted(arrays)) or 'none'})")
    images = arrays.pop("images")
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[3] not in (1, 3) or images.shape[0] == 0:
        raise LatentwalkError(f"{what}: {path}: images must be (N, H, W) or (N, H, W, C) with C 1 or 3, got shape "
                              f"{images.shape}")
    if np.issubdtype(images.dtype, np.floating):
        finite = np.isfinite(images).all()
        if not finite or images.min() < 0.0 or images.max() > 1.0:
            raise LatentwalkError(f"{what}: {path}: float images must be finite and in [0, 1]")
        images = np.clip(np.floor(images.astype(np.float64) * 255.0 + 0.5), 0, 255).astype(np.uint8)
    elif images.dtype != np.uint8:
        raise LatentwalkError(f"{what}: {path}: images must be uint8 or float, got {images.dtype}")
    n = images.shape[0]
    for key, values in arrays.items():
        if values.shape != (n,):
            raise LatentwalkError(f"{what}: {path}: array {key!r} has shape {values.shape}, expected ({n},) like the images")
    labels = arrays.pop("labels", None)
    classes: tuple[str, ...] = ()
    if labels is not None:
        if not np.issubdtype(labels.dtype, np.integer):
            raise LatentwalkError(f"{what}: {path}: labels must be integers (class ids), got {labels.dtype}")
        labels = labels.astype(np.int64)
        classes = tuple(str(c) for c in np.unique(labels))
    counts = {"mode": 0, "size": 0}
    images = _resize_array(images, size, channels, counts)
    attributes = {key: np.asarray(values, dtype=np.float64) for key, values in arrays.items()
                  if np.issubdtype(values.dtype, np.number)}
    return SourceImages(images, labels, classes, attributes, {path.name: sha256_file(path)}, counts)


def read_source(name: str, settings: Mapping[str, Any], log: Callable[[str], None] = lambda _m: None) -> SourceImages:
    """Read source ``name`` from its ``data.sources.<name>`` settings (``path``, ``size``, ``channels``)."""
    what = f"data.sources.{name}"
    path, size, channels = Path(settings["path"]), int(settings["size"]), int(settings["channels"])
    if channels not in _MODES:
        raise LatentwalkError(f"{what}.channels: {channels!r} must be 1 or 3")
    if not path.exists():
        raise LatentwalkError(f"{what}.path: {path} does not exist")
    source = read_npz(path, size, channels, what) if path.is_file() else read_folder(path, size, channels, what)
    if any(source.converted.values()):
        log(f"{name}: converted {source.converted['mode']} image(s) to mode {_MODES[channels]} and resized "
            f"{source.converted['size']} to {size}x{size}")
    return source
