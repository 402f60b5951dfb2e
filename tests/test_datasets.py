"""Tests for latentwalk.data.dataset: splits, digits, the line benchmark, MNIST, save/load."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from _helpers import MNIST_DIR, needs_mnist
from hypothesis import given, settings
from hypothesis import strategies as st

from latentwalk.core.io import LatentwalkError, save_npz
from latentwalk.data.dataset import Dataset, load_dataset, save_dataset, split_indices
from latentwalk.data.idx import MNIST_FILES, write_idx
from latentwalk.data.lines import render_lines, render_lines_acai
from latentwalk.data.prepare import load_digits, load_mnist, make_lines, prepare_dataset

TAU = 2 * math.pi


def _one_line(excinfo: pytest.ExceptionInfo[LatentwalkError], *needles: str) -> None:
    message = str(excinfo.value)
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, (needle, message)


def _centroid_xy(image: np.ndarray) -> tuple[float, float]:
    """Intensity-weighted centroid in the module's convention: x right, y up, pixel-corner origin."""
    size = image.shape[0]
    centres = np.arange(size) + 0.5
    mass = image.sum(dtype=np.float64)
    x = float((image.sum(axis=0, dtype=np.float64) * centres).sum() / mass)
    row = float((image.sum(axis=1, dtype=np.float64) * centres).sum() / mass)
    return x, size - row


def _brute_force_lines(
    angles: np.ndarray, size: int = 32, length: float = 15.0, width: float = 2.0, s: int = 8
) -> np.ndarray:
    """Reference renderer: test every sub-pixel sample centre directly."""
    sub = (np.arange(size * s) + 0.5) / s
    x, row = np.meshgrid(sub, sub)
    dx, dy = x - size / 2, size / 2 - row
    out = []
    for a in angles:
        t = dx * math.cos(a) + dy * math.sin(a)
        across = -dx * math.sin(a) + dy * math.cos(a)
        inside = (t >= 0) & (t <= length) & (np.abs(across) <= width / 2)
        out.append(inside.reshape(size, s, size, s).sum(axis=(1, 3)) / (s * s))
    return np.asarray(out, dtype=np.float32)


# --------------------------------------------------------------------------- splits


@settings(max_examples=40, deadline=None)
@given(n=st.integers(min_value=2, max_value=500), fraction=st.floats(0.01, 0.99), seed=st.integers(0, 2**31))
def test_split_counts(n: int, fraction: float, seed: int) -> None:
    n_test = round(n * fraction)
    if not 0 < n_test < n:
        with pytest.raises(LatentwalkError):
            split_indices(n, fraction, seed)
        return
    split = split_indices(n, fraction, seed)
    assert split.shape == (n,) and split.dtype.kind == "U"
    assert set(split.tolist()) <= {"train", "test"}
    assert int((split == "test").sum()) == n_test
    np.testing.assert_array_equal(split, split_indices(n, fraction, seed))


@pytest.mark.parametrize("bad", [0, 1, 0.0, 1.0, -0.1, 1.5, float("nan"), True, "0.2"])
def test_split_rejects_bad_fraction(bad: object) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        split_indices(100, bad, 0)  # type: ignore[arg-type]
    _one_line(excinfo, "data.test_fraction", repr(bad))


# --------------------------------------------------------------------------- digits


def test_digits() -> None:
    ds = load_digits(0.2, seed=3)
    assert ds.images.shape == (1797, 8, 8, 1) and ds.images.dtype == np.float32
    assert ds.images.min() == 0.0 and ds.images.max() == 1.0
    assert ds.labels.dtype == np.int64 and set(np.unique(ds.labels).tolist()) == set(range(10))
    assert ds.label_kind == "class"
    assert int((ds.split == "test").sum()) == round(1797 * 0.2)
    assert ds.n_test + ds.n_train == 1797
    again = load_digits(0.2, seed=3)
    np.testing.assert_array_equal(ds.images, again.images)
    np.testing.assert_array_equal(ds.labels, again.labels)
    np.testing.assert_array_equal(ds.split, again.split)
    other = load_digits(0.2, seed=4)
    assert not np.array_equal(ds.split, other.split)
    json.dumps(ds.source)


# --------------------------------------------------------------------------- lines


def test_render_lines_shape_range_determinism() -> None:
    angles = np.random.default_rng(0).random(300) * TAU
    images = render_lines(angles)
    assert images.shape == (300, 32, 32) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0
    assert images.max() == 1.0
    np.testing.assert_array_equal(images, render_lines(angles.copy()))
    # Chunking must not matter: rendering one by one gives the same bits.
    np.testing.assert_array_equal(images[:5], np.concatenate([render_lines(angles[i : i + 1]) for i in range(5)]))
    assert render_lines(np.array([])).shape == (0, 32, 32)


def test_render_lines_matches_brute_force() -> None:
    axis_aligned = [0.0, math.pi / 2, math.pi, 3 * math.pi / 2]
    angles = np.concatenate([np.random.default_rng(7).random(12) * TAU, axis_aligned])
    np.testing.assert_array_equal(render_lines(angles), _brute_force_lines(angles))
    small = np.array([0.3, 2.0])
    np.testing.assert_array_equal(
        render_lines(small, size=16, length=6.5, width=1.3, supersample=5),
        _brute_force_lines(small, size=16, length=6.5, width=1.3, s=5),
    )


def test_render_lines_mass_and_centroid() -> None:
    length, width = 15.0, 2.0
    angles = np.concatenate([np.random.default_rng(1).random(500) * TAU, np.linspace(0, TAU, 73)])
    images = render_lines(angles, length=length, width=width)
    mass = images.sum(axis=(1, 2), dtype=np.float64)
    np.testing.assert_allclose(mass, length * width, rtol=0.05)
    for a, image in zip(angles, images):
        x, y = _centroid_xy(image)
        assert abs(x - (16 + length / 2 * math.cos(a))) < 0.5, (a, x)
        assert abs(y - (16 + length / 2 * math.sin(a))) < 0.5, (a, y)


def test_render_lines_axis_aligned() -> None:
    right, up, left, down = render_lines(np.array([0.0, math.pi / 2, math.pi, 3 * math.pi / 2]))
    expected = np.zeros((4, 32, 32), dtype=np.float32)
    expected[0, 15:17, 16:31] = 1.0  # angle 0: right of centre, rows 15 and 16 only
    expected[1, 1:16, 15:17] = 1.0  # pi/2: up (towards row 0), columns 15 and 16
    expected[2, 15:17, 1:16] = 1.0  # pi: left
    expected[3, 16:31, 15:17] = 1.0  # 3pi/2: down
    np.testing.assert_array_equal(np.stack([right, up, left, down]), expected)


def test_render_lines_rejects_bad_arguments() -> None:
    with pytest.raises(LatentwalkError):
        render_lines(np.array([0.0]), size=0)
    with pytest.raises(LatentwalkError):
        render_lines(np.array([0.0]), width=-1.0)
    with pytest.raises(LatentwalkError):
        render_lines(np.array([np.nan]))


# --------------------------------------------------------------------------- the published benchmark's renderer
#
# Hand computations (32x32, centre 16, radius 15, width 2; "ink" = covered fraction, the [0, 1] pixel value):
# - 0 deg: the end is (row 16, col 31): flatter than 45 deg, so the scan runs over columns 16..30 (range(16, 31));
#   the minor start is 16 - 1 = 15 and the slope 0, so rows 15 and 16 are fully inked in columns 16..30 and
#   column 31 is not (the far end is never drawn): 30 pixels.
# - 30 deg: the end is (row 16 - 7.5, col 16 + 12.990381) = (8.5, 28.990381); columns 16..28, slope
#   -7.5 / 12.990381 = -0.577350. Column 16: the band starts at 15 + (16 - 16 - 0.5)(-0.577350) = 15.288675 and
#   ends at 17.288675: row 15 gets 16 - 15.288675 = 0.711325, row 16 gets 1, row 17 gets 0.288675. Column 28:
#   15 + 11.5 (-0.577350) = 8.360472: row 8 0.639528, row 9 1, row 10 0.360472. Column 29: nothing.
# - 45 deg: sin and cos differ in the last bit (|d row| < |d col|), so the scan runs over columns 16..26 with
#   slope -1: column 16 starts at 15.5 (rows 15, 16, 17 = 0.5, 1, 0.5), column 26 at 5.5 (rows 5, 6, 7 = 0.5,
#   1, 0.5). Each column holds 2 pixels of ink: 22 in all, against 30 at 0 deg (the width is measured along the
#   minor axis, so the diagonal is thinner: 2 cos 45 = 1.41 px across).
# - 200 deg: the end is (row 16 + 5.130302, col 16 - 14.095389) = (21.130302, 1.904611); the scan starts from
#   that end (smaller column): columns 1..15, slope -5.130302 / 14.095389 = -0.363970, minor start 20.130302.
#   Column 1 is the fractional first cell, weight 2 - 1.904611 = 0.095389; its band starts at
#   20.130302 + (1 - 1.904611 - 0.5)(-0.363970) = 20.641538: row 20 gets 0.095389 (21 - 20.641538) = 0.034193,
#   row 21 0.095389, row 22 0.095389 (22.641538 - 22) = 0.061196. Column 15: band from
#   20.130302 + (15 - 1.904611 - 0.5)(-0.363970) = 15.545956: rows 15, 16, 17 = 0.454044, 1, 0.545956. Column 16
#   (the centre) is not drawn.
ACAI_HAND = {
    0: [((15, 16), 1.0), ((16, 16), 1.0), ((15, 30), 1.0), ((16, 30), 1.0), ((14, 20), 0.0), ((17, 20), 0.0), ((15, 31), 0.0)],
    30: [((15, 16), 0.711325), ((16, 16), 1.0), ((17, 16), 0.288675), ((8, 28), 0.639528), ((9, 28), 1.0),
         ((10, 28), 0.360472)],
    45: [((15, 16), 0.5), ((16, 16), 1.0), ((17, 16), 0.5), ((5, 26), 0.5), ((6, 26), 1.0), ((7, 26), 0.5)],
    200: [((20, 1), 0.034193), ((21, 1), 0.095389), ((22, 1), 0.061196), ((15, 15), 0.454044), ((16, 15), 1.0),
          ((17, 15), 0.545956)],
}


@pytest.mark.parametrize("degrees", sorted(ACAI_HAND))
def test_acai_renderer_matches_hand_computed_pixels(degrees: int) -> None:
    image = render_lines_acai(np.array([math.radians(degrees)]))[0]
    for (row, col), value in ACAI_HAND[degrees]:
        assert image[row, col] == pytest.approx(value, abs=2e-6), (degrees, row, col)
    total = {0: 30.0, 45: 22.0}.get(degrees)
    if total is not None:
        assert float(image.sum()) == pytest.approx(total, abs=1e-5)
    empty_column = {0: 31, 30: 29, 45: 27}.get(degrees)
    if empty_column is not None:  # the far end's cell is never drawn
        assert image[:, empty_column].sum() == 0.0
    if degrees == 200:
        assert image[:, 16].sum() == 0.0 and image[:, 0].sum() == 0.0


def test_acai_renderer_draws_diagonals_thinner_and_cardinal_lines_like_coverage() -> None:
    angles = np.radians(np.arange(0, 360, 5.0))
    ink = render_lines_acai(angles).sum(axis=(1, 2))
    diagonal = np.abs(np.sin(2 * angles)) > 0.99  # 45, 135, 225, 315 degrees
    cardinal = np.abs(np.sin(2 * angles)) < 1e-9
    assert ink[diagonal].max() < 0.8 * ink[cardinal].min()
    np.testing.assert_allclose(ink[cardinal], 30.0, atol=1e-5)
    # ink per unit of minor axis is the width: total ink = 2 x (number of scanned cells)
    cos_sin = np.maximum(np.abs(np.cos(angles)), np.abs(np.sin(angles)))
    np.testing.assert_allclose(ink, 2.0 * np.floor(15.0 * cos_sin + 1e-9) + 0.0, atol=2.5)
    # right, up, left and down agree with the coverage renderer pixel for pixel (the conventions are the same;
    # sin(pi) = 1.2e-16 leaves ink of 1e-15 beside the line)
    cardinal_angles = np.array([0.0, math.pi / 2, math.pi, 3 * math.pi / 2])
    np.testing.assert_allclose(render_lines_acai(cardinal_angles), render_lines(cardinal_angles), atol=1e-6)


def test_acai_renderer_values_are_the_benchmarks_scale() -> None:
    """Values live on [0, 1] with 2x - 1 the benchmark's [-1, 1] image: background exactly 0, the line up to 1."""
    images = render_lines_acai(np.random.default_rng(0).random(50) * TAU)
    assert images.dtype == np.float32 and images.min() == 0.0 and images.max() == 1.0
    assert (np.abs(images.reshape(50, -1)) > 0).sum(axis=1).min() >= 20
    with pytest.raises(LatentwalkError, match="angles must be finite"):
        render_lines_acai(np.array([np.inf]))


def test_make_lines() -> None:
    ds = make_lines(400, 0.25, seed=11)
    assert ds.images.shape == (400, 32, 32, 1) and ds.images.dtype == np.float32
    assert ds.label_kind == "angle" and ds.labels.dtype == np.float64
    assert ds.labels.min() >= 0.0 and ds.labels.max() < TAU
    assert int((ds.split == "test").sum()) == 100
    np.testing.assert_array_equal(ds.images[..., 0], render_lines_acai(ds.labels))  # the default: the published renderer
    assert ds.source["renderer"] == "acai" and ds.source["length"] == 15.0 and "supersample" not in ds.source
    coverage = make_lines(400, 0.25, seed=11, renderer="coverage")
    np.testing.assert_array_equal(coverage.labels, ds.labels)
    np.testing.assert_array_equal(coverage.images[..., 0], render_lines(ds.labels))
    again = make_lines(400, 0.25, seed=11)
    np.testing.assert_array_equal(ds.labels, again.labels)
    np.testing.assert_array_equal(ds.images, again.images)
    np.testing.assert_array_equal(ds.split, again.split)
    assert not np.array_equal(ds.labels, make_lines(400, 0.25, seed=12).labels)
    json.dumps(ds.source)


def test_make_lines_size_parameters() -> None:
    ds = make_lines(20, 0.5, seed=0, size=16, length=6.0, width=1.0, supersample=4, renderer="coverage")
    assert ds.images.shape == (20, 16, 16, 1)
    np.testing.assert_allclose(ds.images.sum(axis=(1, 2)), 6.0, rtol=0.1)


# --------------------------------------------------------------------------- mnist


@needs_mnist
def test_mnist_test_files_only() -> None:
    ds = load_mnist(MNIST_DIR, 0.2, seed=5)
    assert ds.images.shape == (10000, 28, 28, 1) and ds.images.dtype == np.float32
    assert ds.images.min() == 0.0 and ds.images.max() == 1.0
    assert ds.labels.dtype == np.int64 and set(np.unique(ds.labels).tolist()) == set(range(10))
    assert int((ds.split == "test").sum()) == 2000
    assert ds.source["split_mode"] == "random"
    assert set(ds.source["files"]) == {"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"}
    assert ds.source["files"]["t10k-labels-idx1-ubyte.gz"].startswith("f7ae60f9")
    json.dumps(ds.source)


def test_mnist_standard_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    train_x = rng.integers(0, 256, (30, 28, 28), dtype=np.uint8)
    test_x = rng.integers(0, 256, (10, 28, 28), dtype=np.uint8)
    write_idx(tmp_path / (MNIST_FILES["train_images"] + ".gz"), train_x)
    write_idx(tmp_path / (MNIST_FILES["train_labels"] + ".gz"), (np.arange(30) % 10).astype(np.uint8))
    write_idx(tmp_path / MNIST_FILES["test_images"], test_x)  # raw files work too
    write_idx(tmp_path / MNIST_FILES["test_labels"], (np.arange(10) % 10).astype(np.uint8))
    ds = prepare_dataset("mnist", {"test_fraction": 0.5, "mnist": {"dir": str(tmp_path)}}, seed=0)
    assert ds.images.shape == (40, 28, 28, 1)
    assert ds.split.tolist() == ["train"] * 30 + ["test"] * 10
    np.testing.assert_allclose(ds.images[:30, ..., 0], train_x / 255.0, rtol=1e-6)
    np.testing.assert_allclose(ds.images[30:, ..., 0], test_x / 255.0, rtol=1e-6)
    assert ds.source["split_mode"] == "standard"
    assert ds.source["n_train"] == 30 and ds.source["n_test"] == 10
    assert len(ds.source["files"]) == 4


def test_mnist_needs_dir() -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        prepare_dataset("mnist", {"test_fraction": 0.2}, seed=0)
    _one_line(excinfo, "data.mnist.dir")


# --------------------------------------------------------------------------- dispatch


def test_prepare_dataset_dispatch() -> None:
    params = {"test_fraction": 0.2, "lines": {"n": 50, "size": 16, "length": 6.0, "width": 1.5, "supersample": 4}}
    lines = prepare_dataset("lines", params, seed=2)
    assert lines.images.shape == (50, 16, 16, 1) and int((lines.split == "test").sum()) == 10
    digits = prepare_dataset("digits", params, seed=2)
    assert digits.images.shape == (1797, 8, 8, 1)
    with pytest.raises(LatentwalkError) as excinfo:
        prepare_dataset("cifar", params, seed=0)
    _one_line(excinfo, "cifar", "digits", "lines", "mnist")
    with pytest.raises(LatentwalkError) as excinfo:
        prepare_dataset("lines", {"test_fraction": 0.2, "lines": {"n": 10, "colour": 1}}, seed=0)
    _one_line(excinfo, "data.lines.colour")
    with pytest.raises(LatentwalkError) as excinfo:
        prepare_dataset("lines", {"test_fraction": 1.2, "lines": {"n": 10}}, seed=0)
    _one_line(excinfo, "data.test_fraction", "1.2")


# --------------------------------------------------------------------------- save / load


def test_save_load_round_trip(tmp_path: Path) -> None:
    ds = make_lines(30, 0.2, seed=0)
    path = tmp_path / "data" / "lines.npz"
    save_dataset(ds, path)
    back = load_dataset(path)
    for name in ("images", "labels", "split"):
        original, loaded = getattr(ds, name), getattr(back, name)
        assert loaded.dtype == original.dtype, name
        np.testing.assert_array_equal(loaded, original)
    assert back.label_kind == "angle" and back.source == {}
    assert [p.name for p in path.parent.iterdir()] == ["lines.npz"]  # no temp file left


def test_load_missing_key(tmp_path: Path) -> None:
    path = tmp_path / "broken.npz"
    images, labels = np.zeros((2, 4, 4), np.float32), np.zeros(2, np.int64)
    save_npz(path, images=images, labels=labels, label_kind=np.array("class"))
    with pytest.raises(LatentwalkError) as excinfo:
        load_dataset(path)
    _one_line(excinfo, "broken.npz", "split")


def test_load_missing_or_corrupt_file(tmp_path: Path) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        load_dataset(tmp_path / "none.npz")
    _one_line(excinfo, "none.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(LatentwalkError) as excinfo:
        load_dataset(tmp_path / "junk.npz")
    _one_line(excinfo, "junk.npz")


def test_dataset_validates_shapes() -> None:
    with pytest.raises(LatentwalkError):
        Dataset(np.zeros((3, 2, 2), np.float32), np.zeros(2, np.int64), np.array(["train"] * 3), "class")
    with pytest.raises(LatentwalkError):
        Dataset(np.zeros((1, 2, 2), np.float32), np.zeros(1, np.int64), np.array(["train"]), "colour")
    with pytest.raises(LatentwalkError):
        Dataset(np.zeros((1, 2, 2), np.float32), np.zeros(1, np.int64), np.array(["valid"]), "class")
