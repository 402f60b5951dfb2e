"""Datasets of your own (data.sources): image folders and .npz files, read deterministically, with every bad input
a one-line error naming the file."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
from latentwalk.core.io import LatentwalkError
from latentwalk.data.custom import image_files, read_folder, read_npz, read_source
from PIL import Image


def _png(path: Path, array: np.ndarray, mode: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)
    return path


def _rgb(seed: int, size: int = 8) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def test_folder_with_class_subfolders_reads_in_sorted_order_with_labels_and_digests(tmp_path: Path) -> None:
    arrays = {"cat/b.png": _rgb(1), "cat/a.png": _rgb(2), "dog/x/deep.png": _rgb(3), "ant/z.PNG": _rgb(4)}
    for name, array in arrays.items():
        _png(tmp_path / name, array)
    (tmp_path / "dog" / "notes.txt").write_text("not an image")
    (tmp_path / ".hidden").mkdir()
    _png(tmp_path / ".hidden" / "skip.png", _rgb(5))
    source = read_folder(tmp_path, 8, 3)
    order = ["ant/z.PNG", "cat/a.png", "cat/b.png", "dog/x/deep.png"]
    assert [p.relative_to(tmp_path).as_posix() for p in image_files(tmp_path)] == order
    assert source.images.shape == (4, 8, 8, 3) and source.images.dtype == np.uint8
    for k, name in enumerate(order):
        np.testing.assert_array_equal(source.images[k], arrays[name])
    assert source.classes == ("ant", "cat", "dog")
    assert source.labels.tolist() == [0, 1, 1, 2]
    assert source.files == {name: hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() for name in order}
    assert source.converted == {"mode": 0, "size": 0}


def test_flat_folder_has_no_labels_and_converts_modes_and_sizes(tmp_path: Path) -> None:
    _png(tmp_path / "a.png", _rgb(1, 16))
    _png(tmp_path / "b.png", np.full((8, 8), 200, np.uint8), "L")
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 128  # half-transparent red over black: (128, 0, 0)
    _png(tmp_path / "c.png", rgba, "RGBA")
    Image.fromarray(_rgb(7)).save(tmp_path / "d.jpg", quality=95)
    messages: list[str] = []
    source = read_source("mine", {"path": str(tmp_path), "size": 8, "channels": 3}, messages.append)
    assert source.labels is None and source.classes == ()
    assert source.images.shape == (4, 8, 8, 3)
    np.testing.assert_array_equal(source.images[1], 200)  # grey -> RGB repeats the value
    assert abs(int(source.images[2, 0, 0, 0]) - 128) <= 1 and source.images[2, ..., 1:].max() == 0
    assert source.converted == {"mode": 2, "size": 1}
    assert messages == ["mine: converted 2 image(s) to mode RGB and resized 1 to 8x8"]
    grey = read_folder(tmp_path, 8, 1)
    assert grey.images.shape == (4, 8, 8, 1) and int(grey.images[1].min()) == 200


def test_npz_source_accepts_grey_and_float_images_labels_and_attributes(tmp_path: Path) -> None:
    images = np.random.default_rng(0).random((6, 4, 4))
    np.savez(tmp_path / "s.npz", images=images, labels=np.array([0, 1, 0, 1, 2, 2]), angle=np.linspace(0, 1, 6))
    source = read_npz(tmp_path / "s.npz", 4, 1)
    np.testing.assert_array_equal(source.images[..., 0], np.floor(images * 255 + 0.5).astype(np.uint8))
    assert source.labels.tolist() == [0, 1, 0, 1, 2, 2] and source.classes == ("0", "1", "2")
    np.testing.assert_allclose(source.attributes["angle"], np.linspace(0, 1, 6))
    assert list(source.files) == ["s.npz"]
    rgb = read_npz(tmp_path / "s.npz", 8, 3)
    assert rgb.images.shape == (6, 8, 8, 3) and rgb.converted == {"mode": 6, "size": 6}


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"pixels": np.zeros((2, 4, 4))}, "has no array 'images'"),
        ({"images": np.zeros((2, 4))}, "must be (N, H, W) or (N, H, W, C)"),
        ({"images": np.zeros((2, 4, 4, 2))}, "must be (N, H, W) or (N, H, W, C)"),
        ({"images": np.full((2, 4, 4), 1.5)}, "finite and in [0, 1]"),
        ({"images": np.zeros((2, 4, 4), np.int32)}, "must be uint8 or float"),
        ({"images": np.zeros((2, 4, 4)), "labels": np.zeros(3, np.int64)}, "array 'labels' has shape (3,)"),
        ({"images": np.zeros((2, 4, 4)), "labels": np.zeros(2)}, "labels must be integers"),
    ],
)
def test_bad_npz_sources_name_the_file_and_the_array(tmp_path: Path, arrays: dict, message: str) -> None:
    np.savez(tmp_path / "bad.npz", **arrays)
    with pytest.raises(LatentwalkError, match="data.sources.x: .*bad.npz") as caught:
        read_source("x", {"path": str(tmp_path / "bad.npz"), "size": 4, "channels": 1})
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_bad_folders_name_the_folder_or_the_file(tmp_path: Path) -> None:
    settings = {"size": 8, "channels": 3}
    with pytest.raises(LatentwalkError, match=r"data.sources.x.path: .*missing does not exist"):
        read_source("x", {"path": str(tmp_path / "missing"), **settings})
    (tmp_path / "empty").mkdir()
    with pytest.raises(LatentwalkError, match=r"data.sources.x: .*empty holds no image"):
        read_source("x", {"path": str(tmp_path / "empty"), **settings})
    _png(tmp_path / "mixed" / "top.png", _rgb(1))
    _png(tmp_path / "mixed" / "cls" / "in.png", _rgb(2))
    with pytest.raises(LatentwalkError, match=r"mixed/top.png sits at the top level"):
        read_source("x", {"path": str(tmp_path / "mixed"), **settings})
    _png(tmp_path / "corrupt" / "good.png", _rgb(1))
    (tmp_path / "corrupt" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(LatentwalkError, match=r"cannot read image .*corrupt/broken.png"):
        read_source("x", {"path": str(tmp_path / "corrupt"), **settings})
