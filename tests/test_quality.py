"""Tests for latentwalk.measure.quality: line-benchmark metrics (Mean Distance, Smoothness) and the digit classifier.

Line frames come from latentwalk.data.dataset.render_lines with the benchmark's default parameters and are
scored against the real 10,000 reference lines; classifier references are scikit-learn itself.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from _helpers import one_line
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from latentwalk.core.io import LatentwalkError
from latentwalk.data.dataset import Dataset
from latentwalk.data.lines import render_lines
from latentwalk.data.prepare import load_digits
from latentwalk.measure.classifier import fit_classifier
from latentwalk.measure.quality import (
    N_REFERENCE,
    SMOOTHNESS_MIN_CHANGE,
    classifier_probabilities,
    entropy,
    mean_smoothness,
    nearest_lines,
    nearest_neighbour_distance,
    reference_lines,
    smoothness,
    to_benchmark_scale,
)

SEED = 20171203
TAU = 2 * math.pi
COVERAGE = {"size": 32, "length": 15.0, "width": 2.0, "supersample": 8}  # render_lines' keyword arguments
LINE_PARAMS = {**COVERAGE, "renderer": "coverage"}
ACAI_PARAMS = {**LINE_PARAMS, "renderer": "acai"}  # the default: the published benchmark's renderer
STEP = TAU / N_REFERENCE  # angular spacing of the reference lines


def _frames(angles: np.ndarray) -> np.ndarray:
    """Rendered [0, 1] lines at the given angles, mapped to the benchmark scale."""
    return to_benchmark_scale(render_lines(np.asarray(angles, dtype=np.float64), **COVERAGE))


def _angle_error(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs((np.asarray(a) - np.asarray(b) + math.pi) % TAU - math.pi)


@pytest.fixture(scope="module")
def refs() -> tuple[np.ndarray, np.ndarray]:
    return reference_lines(LINE_PARAMS)


def _score(frames: np.ndarray, refs: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, float]:
    """(cosine distances, nearest angles, smoothness) of one path of frames."""
    angles, references = refs
    dist, idx = nearest_lines(frames, references)
    return dist, angles[idx], smoothness(angles[idx])


# --------------------------------------------------------------------------- scale and references


def test_to_benchmark_scale() -> None:
    images = np.array([[0.0, 1.0], [0.5, 0.25]])
    out = to_benchmark_scale(images)
    assert out.dtype == np.float32 and out.shape == (2, 2)
    np.testing.assert_array_equal(out, [[-1.0, 1.0], [0.0, -0.5]])


def test_reference_lines(refs: tuple[np.ndarray, np.ndarray]) -> None:
    angles, references = refs
    assert N_REFERENCE == 10_000
    np.testing.assert_array_equal(angles, np.linspace(0.0, TAU, 10_000, endpoint=False))
    assert references.shape == (10_000, 32 * 32) and references.dtype == np.float32
    assert references.min() == -1.0 and references.max() == 1.0  # background -1, fully covered pixels +1
    for k in (0, 1234, 9999):
        np.testing.assert_array_equal(references[k], _frames([angles[k]])[0].reshape(-1))


def test_reference_lines_count_is_a_parameter() -> None:
    angles, references = reference_lines(LINE_PARAMS, n=8)
    np.testing.assert_allclose(angles, np.arange(8) * TAU / 8, rtol=0, atol=1e-15)
    assert references.shape == (8, 1024)


# --------------------------------------------------------------------------- Mean Distance and Smoothness on drawn lines


@pytest.mark.parametrize(("a", "b"), [(0.3, 2.0), (2.5, 0.5), (5.5, 7.0)])  # increasing, decreasing, across 2 pi
def test_clean_interpolation_scores_zero(refs, a: float, b: float) -> None:
    truth = np.linspace(a, b, 16)
    dist, nearest, s = _score(_frames(truth), refs)
    assert dist.max() < 1e-3  # Mean Distance ~ 0: every frame is a line
    assert dist.mean() < 1e-4
    assert abs(s) < 0.02  # Smoothness ~ 0: the angle moves in equal steps
    assert _angle_error(nearest, truth).max() < 0.01


@pytest.mark.parametrize("params", [LINE_PARAMS, ACAI_PARAMS], ids=["coverage", "acai"])
def test_lines_at_interpolated_angles_score_zero_with_either_renderer(params: dict) -> None:
    """Frames drawn exactly at the angles of a walk, scored against the same renderer's references: ~0, ~0."""
    from latentwalk.data.lines import draw_lines

    angles, references = reference_lines(params)
    for a, b in ((0.3, 2.0), (5.5, 7.0), (4.0, 1.2)):
        truth = np.linspace(a, b, 16)
        dist, idx = nearest_lines(to_benchmark_scale(draw_lines(truth, params)), references)
        assert dist.mean() < 1e-4 and dist.max() < 1e-3, (params["renderer"], a, b)
        assert abs(smoothness(angles[idx])) < 0.03
        assert _angle_error(angles[idx], truth).max() < 0.02


def test_acai_references_score_coverage_lines_worse_than_their_own() -> None:
    """Scoring against another renderer's references leaves a floor: the reason references follow the dataset."""
    from latentwalk.data.lines import draw_lines

    truth = np.random.default_rng(3).random(64) * TAU
    own, _ = nearest_lines(to_benchmark_scale(draw_lines(truth, ACAI_PARAMS)), reference_lines(ACAI_PARAMS)[1])
    other, _ = nearest_lines(to_benchmark_scale(draw_lines(truth, LINE_PARAMS)), reference_lines(ACAI_PARAMS)[1])
    assert own.mean() < 1e-4 < 1e-3 < other.mean()


def test_abrupt_switch_smoothness_is_one_minus_one_over_steps(refs) -> None:
    start, end = render_lines(np.array([0.4, 1.9]), **COVERAGE)
    frames = to_benchmark_scale(np.concatenate([np.repeat(start[None], 8, 0), np.repeat(end[None], 8, 0)]))
    dist, nearest, s = _score(frames, refs)
    assert s == pytest.approx(1 - 1 / 15, abs=1e-9)
    assert dist.max() < 1e-3  # each frame is still a clean line
    assert len(set(nearest[:8])) == 1 and len(set(nearest[8:])) == 1


def test_pixel_cross_fade_scores_badly(refs) -> None:
    a, b = 0.3, 2.0
    clean_dist, _, clean_s = _score(_frames(np.linspace(a, b, 16)), refs)
    start, end = render_lines(np.array([a, b]), **COVERAGE)
    w = np.linspace(0.0, 1.0, 16)[:, None, None]
    fade = to_benchmark_scale((1 - w) * start + w * end)
    dist, _, s = _score(fade, refs)
    assert s > 0.4  # the nearest line jumps from one endpoint to the other
    assert dist.mean() > 1e-3
    assert dist.mean() > 100 * clean_dist.mean()
    assert s > clean_s + 0.4
    # the middle frames are two half-intensity lines: far from any single line
    assert dist[7] > dist[0] + 1e-3 and dist[8] > dist[15] + 1e-3


def test_nearest_lines_recovers_random_angles(refs) -> None:
    """Rendered lines at random angles come back at (almost always) the nearest reference angle.

    Not every one lands within one reference step: at 32 px with 8x8 supersampling, lines a few
    milliradians apart render to the same or nearly the same image, so cosine-nearest is not always
    angle-nearest (worst case ~10 steps = 0.006 rad seen over 1,200 angles).
    """
    angles, references = refs
    truth = np.random.default_rng(SEED).random(300) * TAU
    dist, idx = nearest_lines(_frames(truth), references)
    err = _angle_error(angles[idx], truth)
    assert np.median(err) < 0.5 * STEP
    assert np.mean(err <= STEP * 1.01) >= 0.9
    assert err.max() < 0.01
    assert dist.max() < 1e-4


def test_nearest_lines_finds_identical_reference(refs) -> None:
    _, references = refs
    k = np.arange(0, N_REFERENCE, 37)
    dist, idx = nearest_lines(references[k], references)
    assert dist.max() < 1e-9
    assert np.all(references[idx] == references[k])  # the same image (neighbouring lines may render identically)


def test_nearest_lines_chunking_and_shapes(refs) -> None:
    _, references = refs
    frames = _frames(np.random.default_rng(1).random(20) * TAU)  # (20, 32, 32)
    d0, i0 = nearest_lines(frames, references)
    d1, i1 = nearest_lines(frames.reshape(20, -1), references, chunk=3)
    np.testing.assert_array_equal(i0, i1)
    np.testing.assert_array_equal(d0, d1)
    assert d0.dtype == np.float64 and i0.dtype == np.int64 and d0.shape == (20,)


def test_nearest_lines_hand_cosines() -> None:
    references = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]], dtype=np.float32)
    frames = np.array([[2.0, 0.0], [1.0, 1.0], [0.0, -3.0], [0.0, 0.0]])
    dist, idx = nearest_lines(frames, references)
    # [1, 1] is 45 degrees from both axes: cosine 1/sqrt 2, the first maximum wins
    assert idx.tolist()[:3] == [0, 0, 2]
    np.testing.assert_allclose(dist[:3], [0.0, 1 - 1 / math.sqrt(2), 1 - 1 / math.sqrt(2)], atol=1e-6)
    assert math.isnan(dist[3]) and idx[3] == 0  # an all-zero frame has no cosine distance (as the benchmark)


def test_nearest_lines_pixel_mismatch_raises(refs) -> None:
    _, references = refs
    with pytest.raises(LatentwalkError) as excinfo:
        nearest_lines(np.zeros((3, 28, 28), dtype=np.float32), references)
    one_line(excinfo, "784", "1024")


# --------------------------------------------------------------------------- smoothness arithmetic


def test_smoothness_exact_values() -> None:
    assert smoothness(np.linspace(0.0, 1.0, 11)) == pytest.approx(0.0, abs=1e-12)
    assert smoothness(np.linspace(3.0, 1.0, 5)) == pytest.approx(0.0, abs=1e-12)  # decreasing
    # steps 0.1, 0.2, 0.3 over a total of 0.6: 0.3 / 0.6 - 1/3
    assert smoothness(np.array([0.0, 0.1, 0.3, 0.6])) == pytest.approx(0.5 - 1 / 3, abs=1e-12)
    # abrupt: 1 - 1/(steps - 1)
    assert smoothness(np.array([1.0] * 8 + [2.0] * 8)) == pytest.approx(1 - 1 / 15, abs=1e-12)
    assert smoothness(np.array([1.0, 2.0])) == pytest.approx(0.0, abs=1e-12)


def test_smoothness_unwraps_across_two_pi() -> None:
    path = (TAU - 0.3 + 0.1 * np.arange(7)) % TAU  # 5.98 ... 6.18, 0.0, ... 0.3: equal steps of 0.1
    assert smoothness(path) == pytest.approx(0.0, abs=1e-9)
    backwards = path[::-1].copy()
    assert smoothness(backwards) == pytest.approx(0.0, abs=1e-9)


def test_smoothness_nan_when_total_change_tiny() -> None:
    assert SMOOTHNESS_MIN_CHANGE == 1e-4
    assert math.isnan(smoothness(np.array([1.0, 1.00005])))
    assert math.isnan(smoothness(np.array([1.0, 1.0, 1.0])))
    assert math.isnan(smoothness(np.array([0.5, 1.5, 0.5])))  # goes somewhere and comes back: total change 0
    assert math.isnan(smoothness(np.array([2.0, 2.0 + 0.99e-4])))
    assert smoothness(np.array([2.0, 2.0 + 2e-4, 2.0 + 4e-4])) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("angles", [[], [1.0]])
def test_smoothness_needs_two_frames(angles: list[float]) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        smoothness(np.array(angles))
    one_line(excinfo, "two frames")


def test_mean_smoothness_counts_nan_as_zero_and_is_nan_when_all_are() -> None:
    assert mean_smoothness(np.array([0.2, np.nan, 0.4])) == pytest.approx(0.2, rel=1e-12)
    assert math.isnan(mean_smoothness([np.nan, np.nan]))  # undefined, not "perfectly smooth"
    assert mean_smoothness([0.5]) == 0.5
    assert math.isnan(mean_smoothness([]))


# --------------------------------------------------------------------------- classifier


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_digits(0.2, SEED)


@pytest.fixture(scope="module")
def digit_weights(digits: Dataset) -> dict[str, np.ndarray]:
    train = digits.split == "train"
    return fit_classifier(digits.images[train], digits.labels[train], SEED)


def test_classifier_accuracy_on_digits(digits: Dataset, digit_weights) -> None:
    test = digits.split == "test"
    p = classifier_probabilities(digit_weights, digits.images[test])
    accuracy = float(np.mean(digit_weights["classes"][p.argmax(axis=1)] == digits.labels[test]))
    assert accuracy >= 0.93, f"test accuracy {accuracy:.4f}"  # 0.9694 measured (seed 20171203, 359 images)


def test_classifier_weights_layout(digit_weights) -> None:
    assert sorted(digit_weights) == ["b1", "b2", "classes", "w1", "w2"]
    assert digit_weights["w1"].shape == (64, 128) and digit_weights["b1"].shape == (128,)
    assert digit_weights["w2"].shape == (128, 10) and digit_weights["b2"].shape == (10,)
    np.testing.assert_array_equal(digit_weights["classes"], np.arange(10))


def test_classifier_probabilities_are_distributions(digits: Dataset, digit_weights) -> None:
    p = classifier_probabilities(digit_weights, digits.images[:200])
    assert p.shape == (200, 10)
    assert np.all(p >= 0) and np.all(p <= 1)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    # the max-logit shift keeps huge inputs finite
    big = classifier_probabilities(digit_weights, digits.images[:20] * 1e6)
    assert np.all(np.isfinite(big))
    np.testing.assert_allclose(big.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def _sklearn_model(x: np.ndarray, y: np.ndarray, seed: int, hidden: int, max_iter: int) -> MLPClassifier:
    model = MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=max_iter, random_state=seed, early_stopping=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x.reshape(len(x), -1).astype(np.float64), y)


def test_classifier_matches_sklearn_predict_proba(digits: Dataset) -> None:
    x, y = digits.images[:600], digits.labels[:600]
    weights = fit_classifier(x, y, 7, hidden=24, max_iter=30)
    model = _sklearn_model(x, y, 7, 24, 30)
    for got, want in zip([weights["w1"], weights["w2"]], model.coefs_):
        np.testing.assert_array_equal(got, want)
    other = digits.images[600:900]
    p = classifier_probabilities(weights, other)
    flat = other.reshape(len(other), -1).astype(np.float64)
    np.testing.assert_allclose(p, model.predict_proba(flat), rtol=1e-10, atol=1e-14)
    np.testing.assert_array_equal(weights["classes"][p.argmax(axis=1)], model.predict(flat))


def test_classifier_keeps_arbitrary_class_labels(digits: Dataset) -> None:
    keep = np.isin(digits.labels, [2, 5, 7])
    x, y = digits.images[keep][:300], digits.labels[keep][:300] * 10  # labels 20, 50, 70
    weights = fit_classifier(x, y, 3, hidden=16, max_iter=40)
    np.testing.assert_array_equal(weights["classes"], [20, 50, 70])
    p = classifier_probabilities(weights, x)
    assert p.shape == (300, 3)
    model = _sklearn_model(x, y, 3, 16, 40)
    np.testing.assert_array_equal(weights["classes"][p.argmax(axis=1)], model.predict(x.reshape(300, -1).astype(np.float64)))


def test_classifier_two_classes(digits: Dataset) -> None:
    keep = np.isin(digits.labels, [0, 1])
    x, y = digits.images[keep][:200], digits.labels[keep][:200]
    weights = fit_classifier(x, y, 3, hidden=16, max_iter=30)
    p = classifier_probabilities(weights, x)
    model = _sklearn_model(x, y, 3, 16, 30)
    assert p.shape == (200, 2)
    np.testing.assert_allclose(p, model.predict_proba(x.reshape(200, -1).astype(np.float64)), rtol=1e-10)


# --------------------------------------------------------------------------- entropy and nearest neighbours


@pytest.mark.parametrize("k", [2, 3, 10])
def test_entropy_uniform_is_log_k(k: int) -> None:
    p = np.full((4, k), 1.0 / k)
    np.testing.assert_allclose(entropy(p), math.log(k), rtol=1e-12)


def test_entropy_hand_rows() -> None:
    p = np.array([[1.0, 0.0, 0.0, 0.0], [0.5, 0.25, 0.25, 0.0], [0.0, 0.0, 0.0, 1.0]])
    h = entropy(p)
    assert h.shape == (3,)
    # zeros are clipped to 1e-12 inside: a one-hot row gives ~3 * 2.8e-11, not exactly 0
    assert h[0] == pytest.approx(0.0, abs=1e-9) and h[2] == pytest.approx(0.0, abs=1e-9)
    assert h[1] == pytest.approx(1.5 * math.log(2), rel=1e-9)
    assert entropy(np.array([[0.5, 0.5]]))[0] == pytest.approx(math.log(2), rel=1e-12)


def test_nearest_neighbour_distance_hand_data() -> None:
    reference = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 0.0]])
    frames = np.array([[3.0, 4.0], [0.0, 1.0], [9.0, 0.0], [6.0, 8.0], [-3.0, -4.0]])
    dist, idx = nearest_neighbour_distance(frames, reference)
    np.testing.assert_array_equal(idx, [1, 0, 2, 1, 0])
    np.testing.assert_array_equal(dist, [0.0, 1.0, 1.0, 5.0, 5.0])
    d1, i1 = nearest_neighbour_distance(frames, reference, chunk=2)
    np.testing.assert_array_equal(d1, dist)
    np.testing.assert_array_equal(i1, idx)


def test_nearest_neighbour_distance_images(digits: Dataset) -> None:
    reference = digits.images[:300]  # (300, 8, 8)
    rng = np.random.default_rng(SEED)
    pick = rng.choice(300, 25, replace=False)
    noisy = reference[pick] + rng.normal(0, 1e-3, reference[pick].shape).astype(np.float32)
    dist, idx = nearest_neighbour_distance(noisy, reference)
    np.testing.assert_array_equal(idx, pick)
    brute = np.linalg.norm(noisy.reshape(25, 1, -1).astype(np.float64) - reference.reshape(1, 300, -1), axis=2)
    np.testing.assert_array_equal(idx, brute.argmin(axis=1))
    np.testing.assert_allclose(dist, brute.min(axis=1), rtol=1e-6)
    exact, same = nearest_neighbour_distance(reference[pick], reference)
    assert exact.max() < 1e-6
    np.testing.assert_array_equal(reference[same], reference[pick])
