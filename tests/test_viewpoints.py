"""The views dataset as data (determinism, labels, storage), its endpoint pairs, and the viewpoint quality metric."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from latentwalk.core.io import LatentwalkError
from latentwalk.core.registry import VIEW_OBJECTS
from latentwalk.data.dataset import load_dataset, load_references, save_dataset
from latentwalk.data.prepare import make_views, prepare_dataset
from latentwalk.data.views import OBJECT_COLOURS, render_views
from latentwalk.measure.path_stats import ViewScorer, frame_table
from latentwalk.measure.quality import crossfade, interpolate_azimuth, nearest_views, smoothness, wrap_angle
from latentwalk.walks.pathset import choose_pairs

SMALL = {"n": 48, "size": 16, "supersample": 2, "reference_azimuths": 120}


@pytest.fixture(scope="module")
def small_views(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, str]:
    ds = make_views(0.25, 3, SMALL)
    path = tmp_path_factory.mktemp("views") / "views.npz"
    save_dataset(ds, path)
    return ds, str(path)


def test_views_dataset_labels_and_determinism(small_views: tuple[object, str], tmp_path) -> None:
    ds, path = small_views
    assert ds.images.shape == (48, 16, 16, 1) and ds.images.dtype == np.float32
    assert ds.label_kind == "object" and ds.labels.dtype == np.int64
    assert np.bincount(ds.labels).tolist() == [12, 12, 12, 12]  # the objects in equal shares
    az, el = ds.attributes["azimuth"], ds.attributes["elevation"]
    assert ((az >= 0) & (az < 2 * np.pi)).all() and np.allclose(el, np.radians(20.0))
    assert ds.n_test == 12
    # every image is the renderer's picture of its own label, azimuth and elevation
    names = np.array(VIEW_OBJECTS)[ds.labels]
    np.testing.assert_array_equal(ds.images[..., 0], render_views(names, az, el, 16, 2))
    again = tmp_path / "again.npz"
    save_dataset(make_views(0.25, 3, SMALL), again)
    assert again.read_bytes() == open(path, "rb").read()  # byte-identical rerun
    other = make_views(0.25, 4, SMALL)
    assert not np.array_equal(other.attributes["azimuth"], az)


def test_views_storage_round_trip(small_views: tuple[object, str]) -> None:
    ds, path = small_views
    back = load_dataset(path)
    assert back.label_kind == "object"
    np.testing.assert_array_equal(back.attributes["azimuth"], ds.attributes["azimuth"])
    refs = load_references(path)
    assert refs["images"].shape == (4 * 120, 16, 16, 1)
    assert np.bincount(refs["labels"]).tolist() == [120] * 4
    np.testing.assert_allclose(np.diff(refs["azimuth"][:120]), 2 * np.pi / 120)


def test_views_reference_elevations_span_the_range() -> None:
    ds = make_views(0.25, 1, {"n": 8, "size": 16, "supersample": 1, "objects": ["mug", "chair"],
                              "elevation": [10.0, 30.0], "reference_azimuths": 8, "reference_elevations": 3})
    assert sorted(set(ds.labels.tolist())) == [VIEW_OBJECTS.index("chair"), VIEW_OBJECTS.index("mug")]
    assert np.degrees(ds.attributes["elevation"]).min() >= 10.0 and np.degrees(ds.attributes["elevation"]).max() <= 30.0
    np.testing.assert_allclose(np.unique(np.degrees(ds.references["elevation"])), [10.0, 20.0, 30.0])
    assert len(ds.references["images"]) == 2 * 3 * 8


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"views": {"objects": ["chair", "sofa"]}}, "data.views.objects"),
        ({"views": {"elevation": [40.0, 10.0]}}, "data.views.elevation"),
        ({"views": {"colour": 1}}, "data.views.colour"),
        ({"views": {"n": 0}}, "data.views.n"),
    ],
)
def test_views_bad_settings_name_their_key(params: dict, message: str) -> None:
    with pytest.raises(LatentwalkError, match=message):
        prepare_dataset("views", params, 1)


def test_load_references_of_a_dataset_without_them(tmp_path) -> None:
    ds = make_views(0.25, 1, {"n": 8, "size": 16, "supersample": 1, "reference_azimuths": 8})
    plain = type(ds)(images=ds.images, labels=ds.labels, split=ds.split, label_kind="object")
    save_dataset(plain, tmp_path / "plain.npz")
    with pytest.raises(LatentwalkError, match="plain.npz: this dataset file has no reference set"):
        load_references(tmp_path / "plain.npz")


def test_object_pairs_are_same_object_then_cross_object() -> None:
    labels = np.repeat(np.arange(4), 10)
    for mode in ("random", "same_class", "cross_class"):
        pairs = choose_pairs(labels, "object", 5, mode, np.random.default_rng(0))
        assert pairs.shape == (10, 2)
        assert (labels[pairs[:5, 0]] == labels[pairs[:5, 1]]).all() and (pairs[:5, 0] != pairs[:5, 1]).all()
        assert (labels[pairs[5:, 0]] != labels[pairs[5:, 1]]).all()


# --------------------------------------------------------------------------- the metric


def test_angle_helpers() -> None:
    np.testing.assert_allclose(wrap_angle([0.0, np.pi / 2, 3 * np.pi / 2, 2 * np.pi + 0.1]), [0.0, np.pi / 2, -np.pi / 2, 0.1])
    # the shorter turn: from 350 degrees to 10 degrees passes 0, not 180
    mid = interpolate_azimuth(np.radians(350.0), np.radians(10.0), 0.5)
    assert abs(wrap_angle(mid)) < 1e-12
    np.testing.assert_allclose(interpolate_azimuth(1.0, 2.0, np.array([0.0, 0.25, 1.0])), [1.0, 1.25, 2.0])


def test_crossfade_is_the_pixel_blend() -> None:
    a, b = np.zeros((1, 2, 2)), np.ones((1, 2, 2))
    out = crossfade(a, b, 5)
    assert out.shape == (1, 5, 2, 2)
    np.testing.assert_allclose(out[0, :, 0, 0], [0.0, 0.25, 0.5, 0.75, 1.0])
    with pytest.raises(LatentwalkError, match="at least 2 steps"):
        crossfade(a, b, 1)


def _scored(frames_images: np.ndarray, refs: dict, obj: int, steps: int) -> tuple[pd.DataFrame, dict]:
    """Score ``frames_images`` (paths, steps, H, W) as one same-object walk with ViewScorer's logic."""
    paths = len(frames_images)
    table = pd.DataFrame({"method": "lerp", "path_id": np.repeat(np.arange(paths), steps), "pair": np.repeat(np.arange(paths), steps),
                          "step": np.tile(np.arange(steps), paths), "t": np.tile(np.linspace(0, 1, steps), paths),
                          "index_a": 0, "index_b": 1, "label_a": obj, "label_b": obj})
    scorer = ViewScorer.__new__(ViewScorer)
    scorer.references = refs
    frames = frame_table(table, frames_images)
    scorer.score(frames, frames_images.reshape(-1, *frames_images.shape[2:]))
    mid = frames["step"] == steps // 2
    return frames, scorer.summarize(frames, frames[mid])


def test_true_views_at_interpolated_azimuths_score_zero(small_views: tuple[object, str]) -> None:
    _, path = small_views
    refs = load_references(path)
    steps, obj = 11, VIEW_OBJECTS.index("chair")
    el = np.radians(20.0)
    walks = []
    for a, b in ((0.3, 1.9), (5.9, 0.7), (2.0, 0.5)):  # one turn crosses 0
        az = interpolate_azimuth(a, b, np.linspace(0, 1, steps))
        walks.append(render_views(["chair"] * steps, az, np.full(steps, el), 16, 2))
    frames, summary = _scored(np.stack(walks), refs, obj, steps)
    # ~0: the nearest reference is within half a reference step (1.5 degrees here, 16 px)
    assert summary["mean_distance"] < 5e-3
    assert summary["smoothness"] < 0.06 and summary["identity_drift"] == 0.0
    # the pixel cross-fade of the same endpoints is far from the true views and turns in one jump
    fade = crossfade(np.stack(walks)[:, 0], np.stack(walks)[:, -1], steps)
    _, faded = _scored(fade, refs, obj, steps)
    assert faded["mean_distance"] > 3 * summary["mean_distance"] and faded["smoothness"] > 0.5
    assert np.isnan(summary["cross_distance"])
    # the recovered azimuths are the true ones to within two reference steps (6 degrees; at 16 px neighbouring
    # azimuths render almost alike), and never a wrong half turn
    truth = np.concatenate([interpolate_azimuth(a, b, np.linspace(0, 1, steps)) for a, b in ((0.3, 1.9), (5.9, 0.7), (2.0, 0.5))])
    assert np.abs(wrap_angle(frames["view_azimuth"].to_numpy() - truth)).max() <= 2 * (2 * np.pi / 120)


def test_an_abrupt_switch_scores_one_minus_one_over_n_minus_one(small_views: tuple[object, str]) -> None:
    _, path = small_views
    refs = load_references(path)
    steps, obj = 9, VIEW_OBJECTS.index("house")
    rows = np.flatnonzero(refs["labels"] == obj)
    a, b = rows[0], rows[30]  # two reference views, 90 degrees apart
    images = np.stack([refs["images"][a]] * 4 + [refs["images"][b]] * 5)[None]
    frames, summary = _scored(images, refs, obj, steps)
    assert summary["mean_distance"] == pytest.approx(0.0, abs=1e-12)
    assert summary["smoothness"] == pytest.approx(1.0 - 1.0 / (steps - 1), abs=1e-12)
    assert smoothness(frames["view_azimuth"].to_numpy()) == pytest.approx(1 - 1 / 8)


def test_identity_drift_counts_frames_nearest_another_object(small_views: tuple[object, str]) -> None:
    _, path = small_views
    refs = load_references(path)
    chair, mug = VIEW_OBJECTS.index("chair"), VIEW_OBJECTS.index("mug")
    frames_img = np.stack([refs["images"][np.flatnonzero(refs["labels"] == chair)[k]] for k in range(3)]
                          + [refs["images"][np.flatnonzero(refs["labels"] == mug)[k]] for k in range(2)])[None]
    _, summary = _scored(frames_img, refs, chair, 5)
    assert summary["identity_drift"] == pytest.approx(2 / 5)


def test_nearest_views_on_a_blank_frame_is_undefined(small_views: tuple[object, str]) -> None:
    refs = load_references(small_views[1])
    found = nearest_views(np.zeros((2, 16, 16), np.float32), refs)
    assert np.isnan(found["distance"]).all()
    with pytest.raises(LatentwalkError, match="reference views"):
        nearest_views(np.zeros((1, 8, 8)), refs)


def test_colour_views_are_the_grey_shading_times_each_objects_colour() -> None:
    """channels 3: every image (and every reference render) is the grey render scaled by its object's colour, so
    the shading survives and the background stays black; the provenance records the colours."""
    settings = {"n": 12, "size": 16, "supersample": 1, "reference_azimuths": 8}
    grey, colour = make_views(0.25, 5, settings), make_views(0.25, 5, {**settings, "channels": 3})
    assert colour.images.shape == (12, 16, 16, 3) and colour.images.dtype == np.float32
    np.testing.assert_array_equal(colour.labels, grey.labels)
    tint = np.array([OBJECT_COLOURS[VIEW_OBJECTS[k]] for k in colour.labels], dtype=np.float32)
    np.testing.assert_array_equal(colour.images, grey.images * tint[:, None, None, :])
    assert colour.references["images"].shape == (4 * 8, 16, 16, 3)
    assert colour.source["channels"] == 3 and colour.source["colours"]["mug"] == list(OBJECT_COLOURS["mug"])
    with pytest.raises(LatentwalkError, match="data.views.channels: 2 must be 1 or 3"):
        make_views(0.25, 5, {**settings, "channels": 2})
