"""Decoder geodesics: exact cases (linear decoder, flat coordinates, the sphere's great circles), dense lengths,
arc-length resampling, the objective's regulariser and determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from latentwalk.core.io import LatentwalkError
from latentwalk.walks import geodesic as G
from latentwalk.walks import interpolate, pathset


def _paths(ps: pathset.PathSet, n: int) -> np.ndarray:
    return ps.z.reshape(n, -1, ps.z.shape[1])


def _np(decode):
    return lambda z: decode(torch.as_tensor(z, dtype=torch.float64)).numpy()


def test_path_energy_hand_values() -> None:
    images = np.array([[[0.0, 0.0], [1.0, 0.0], [1.0, 2.0]], [[0.0, 0.0], [0.0, 0.0], [3.0, 0.0]]])
    np.testing.assert_array_equal(G.path_energy(images), [5.0, 9.0])
    images4 = np.zeros((1, 3, 2, 2), dtype=np.float32)  # (P, S, H, W) images are flattened per step
    images4[0, 1, 0, 0] = 1.0
    images4[0, 2, 1, 1] = 0.5
    np.testing.assert_allclose(G.path_energy(images4), [1.0 + 1.0 + 0.25])


def test_dense_length_of_a_linear_decoder_is_exact() -> None:
    weight = np.array([[3.0, 0.0], [0.0, 4.0]])
    nodes = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]])
    points, cumulative = G.dense_length(lambda z: z @ weight, nodes, 4)
    assert points.shape == (9, 2) and cumulative[-1] == pytest.approx(3.0 + 4.0)
    np.testing.assert_allclose(cumulative[:5], [0.0, 0.75, 1.5, 2.25, 3.0])
    with pytest.raises(LatentwalkError, match="substeps must be >= 1"):
        G.dense_length(lambda z: z, nodes, 0)


@given(st.integers(2, 30), st.lists(st.floats(0.01, 5.0), min_size=2, max_size=12))
@settings(max_examples=60, deadline=None)
def test_arc_length_resampling_is_even_along_the_curve(steps: int, pieces: list[float]) -> None:
    """On a polyline along the x axis with arbitrary piece lengths, resampled points are equally spaced in length."""
    x = np.concatenate([[0.0], np.cumsum(pieces)])
    points = np.column_stack([x, np.zeros_like(x)])
    out = G.resample_by_arc_length(points, x, steps)
    np.testing.assert_allclose(out[:, 0], np.linspace(0.0, x[-1], steps), atol=1e-9 * x[-1])
    np.testing.assert_array_equal(out[[0, -1]], points[[0, -1]])


def test_linear_decoder_gives_the_straight_line_evenly_spaced() -> None:
    rng = np.random.default_rng(21)
    d, steps = 4, 7
    weight = torch.as_tensor(rng.standard_normal((d, 12)), dtype=torch.float64)
    za, zb = rng.standard_normal((2, d)), rng.standard_normal((2, d))
    ps, history = G.geodesic(lambda z: z @ weight, za, zb, steps)
    pts, line = _paths(ps, 2), _paths(interpolate.lerp(za, zb, steps), 2)
    np.testing.assert_array_equal(pts[:, 0], za)
    np.testing.assert_array_equal(pts[:, -1], zb)
    deviation = np.abs(pts - line).max(axis=(1, 2)) / np.linalg.norm(zb - za, axis=1)
    assert np.all(deviation < 1e-6), deviation
    lengths = ps.columns["dense_length"][::steps]
    np.testing.assert_allclose(lengths, ps.columns["line_dense_length"][::steps], rtol=1e-9)
    np.testing.assert_allclose(lengths, np.linalg.norm((zb - za) @ weight.numpy(), axis=1), rtol=1e-9)
    refined = [(row["pair"], row["nodes"]) for row in history if row["start"] == "refined"]
    assert sorted(refined) == [(0, 11), (0, 21), (0, 41), (1, 11), (1, 21), (1, 41)]
    # the finest count is also optimised straight from the line, and one candidate is chosen per pair
    assert [(row["pair"], row["nodes"]) for row in history if row["start"] == "straight"] == [(0, 41), (1, 41)]
    assert sum(row["start"].startswith("chosen") for row in history) == 2


def test_respace_moves_nodes_to_equal_decoded_arc_length_along_their_polyline() -> None:
    """A linear decoder stretching x by 2 (dense lengths exact): the polyline (0,0) (0.1,0) (1,0) (1,0.5) decodes to
    segments 0.2, 1.8 and 0.5, so its 4 nodes go to decoded arc lengths 0, 5/6, 5/3 and 5/2; the ends stay."""
    starts = np.array([[[0.0, 0.0], [0.1, 0.0], [1.0, 0.0], [1.0, 0.5]], [[0.0, 0.0], [0.0, 0.2], [0.0, 0.9], [0.0, 3.0]]])
    out = G._respace(lambda p: np.asarray(p) * [2.0, 1.0], starts)
    np.testing.assert_allclose(out[0], [[0.0, 0.0], [5 / 12, 0.0], [5 / 6, 0.0], [1.0, 0.5]], atol=1e-12)
    np.testing.assert_allclose(out[1], [[0.0, 0.0], [0.0, 1.0], [0.0, 2.0], [0.0, 3.0]], atol=1e-12)


def test_every_start_the_solver_takes_is_at_equal_decoded_arc_length(monkeypatch: pytest.MonkeyPatch) -> None:
    """The straight lines under g(z) = (z_0^3 + 0.1 z_0, z_1) have decoded speed varying 100-fold; every stage's start
    (coarse to fine, and the finest straight from the line) reaches the solver with near-equal decoded steps."""
    starts = []
    minimise = G._minimise
    monkeypatch.setattr(G, "_minimise", lambda decode, start, *args: starts.append(start) or minimise(decode, start, *args))

    def cubic(z):
        return torch.cat([z[:, :1] ** 3 + 0.1 * z[:, :1], z[:, 1:]], 1)

    G.geodesic(cubic, np.array([[-2.0, 0.0], [-1.0, -1.0]]), np.array([[2.0, 0.5], [2.0, 1.0]]), 11)
    assert [s.shape[1] for s in starts] == [11, 21, 41, 41]
    for start in starts:
        decoded = cubic(torch.as_tensor(start.reshape(-1, 2))).numpy().reshape(*start.shape[:2], 2)
        steps = np.linalg.norm(np.diff(decoded, axis=1), axis=2)
        assert (steps.max(axis=1) / steps.min(axis=1)).max() < 1.1, steps


def _sphere(z):
    """(theta, phi) -> the unit sphere in R^3: its geodesics are great circles."""
    return torch.stack([torch.sin(z[:, 0]) * torch.cos(z[:, 1]), torch.sin(z[:, 0]) * torch.sin(z[:, 1]),
                        torch.cos(z[:, 0])], 1)


def test_flat_and_nearly_flat_coordinates_stay_on_the_straight_line() -> None:
    """z_2 is ignored (flat) or barely used (eps z_2^2 sin 3 z_0: its pull-back metric ~1e-3 of the active dims').
    The energy alone pulls a nearly flat coordinate more than a unit away (towards z_2 = 0, where its tiny term vanishes); the
    Euclidean term keeps it near the straight line, and the path length moves by less than 0.1%."""
    za, zb = np.array([[np.pi / 3, -1.0, -2.0]]), np.array([[np.pi / 3, 1.0, 3.0]])
    line = np.linspace(-2.0, 3.0, 11)  # frames at equal arc length of a constant-speed path: linear in the index
    flat, _ = G.geodesic(lambda z: _sphere(z), za, zb, 11, G.Solver(tolerance=1e-7))  # converged tightly
    np.testing.assert_allclose(flat.z[:, 2], line, atol=1e-3)  # arc-length frames: nodes are near-constant speed
    assert flat.z[5, 0] < np.pi / 3 - 0.1  # while the active part bends towards the pole

    def nearly(z):
        return torch.cat([_sphere(z), 0.01 * z[:, 2:3] ** 2 * torch.sin(3 * z[:, 0:1])], 1)

    free, _ = G.geodesic(nearly, za, zb, 11, G.Solver(euclidean_weight=0.0, tolerance=1e-7))
    pinned, _ = G.geodesic(nearly, za, zb, 11, G.Solver(tolerance=1e-7))
    assert np.abs(free.z[:, 2] - line).max() > 1.0
    assert np.abs(pinned.z[:, 2] - line).max() < 0.3
    assert pinned.columns["dense_length"][0] == pytest.approx(free.columns["dense_length"][0], rel=1e-3)


def _on_sphere(z: np.ndarray) -> np.ndarray:
    return np.stack([np.sin(z[:, 0]) * np.cos(z[:, 1]), np.sin(z[:, 0]) * np.sin(z[:, 1]), np.cos(z[:, 0])], 1)


@pytest.mark.parametrize(("za", "zb"), [((np.pi / 3, -1.0), (np.pi / 3, 1.0)), ((1.2, 0.3), (2.0, 2.4)),
                                        ((0.7, -2.0), (2.3, 0.5))])
def test_sphere_geodesics_are_great_circles(za: tuple, zb: tuple) -> None:
    """Stated tolerances (unit sphere, converged to 1e-10): the energy alone puts every frame within 1e-3 of the great circle's plane and
    of its equally spaced angle; with the default Euclidean term, within 1e-2 (1% of the radius); the dense length is within 2e-4
    (relative) of the great-circle angle either way, below the straight line's length."""
    za_, zb_ = np.array([za]), np.array([zb])
    pa, pb = _on_sphere(za_)[0], _on_sphere(zb_)[0]
    normal = np.cross(pa, pb) / np.linalg.norm(np.cross(pa, pb))
    omega = float(np.arccos(pa @ pb))
    for weight, tolerance in ((0.0, 1e-3), (G.Solver().euclidean_weight, 1e-2)):
        ps, _ = G.geodesic(_sphere, za_, zb_, 11, G.Solver(euclidean_weight=weight, tolerance=1e-10))
        points = _on_sphere(ps.z)
        assert np.abs(points @ normal).max() < tolerance, weight
        angles = np.arccos(np.clip(points @ pa, -1.0, 1.0))
        np.testing.assert_allclose(angles, np.linspace(0.0, omega, 11), atol=tolerance)
        assert ps.columns["dense_length"][0] == pytest.approx(omega, rel=2e-4)
        assert ps.columns["dense_length"][0] < ps.columns["line_dense_length"][0]
        assert not ps.columns["not_shorter"][0]


def test_the_regulariser_barely_moves_active_results() -> None:
    """On the sphere every direction is active: weight 0 and the default weight give dense lengths within 1e-4
    (relative), and no frame moves by more than 1% of the sphere's radius."""
    za, zb = np.array([[1.2, 0.3]]), np.array([[2.0, 2.4]])
    free, _ = G.geodesic(_sphere, za, zb, 11, G.Solver(euclidean_weight=0.0))
    pinned, _ = G.geodesic(_sphere, za, zb, 11)
    assert pinned.columns["dense_length"][0] == pytest.approx(free.columns["dense_length"][0], rel=1e-4)
    assert np.abs(_on_sphere(pinned.z) - _on_sphere(free.z)).max() < 1e-2


def test_a_curved_net_gives_a_shorter_path_and_consistent_columns() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(), torch.nn.Linear(16, 20), torch.nn.Tanh()).double()
    for parameter in net.parameters():
        parameter.requires_grad_(False)
    rng = np.random.default_rng(1)
    za, zb = rng.standard_normal((2, 3)) * 1.5, rng.standard_normal((2, 3)) * 1.5
    ps, history = G.geodesic(net, za, zb, 9)
    dense, line = ps.columns["dense_length"][::9], ps.columns["line_dense_length"][::9]
    assert np.all(dense < line)
    assert np.all(ps.columns["energy"][::9] < ps.columns["line_energy"][::9])
    assert not ps.columns["not_shorter"].any()
    # the stored line length is the dense length of the straight line, recomputed here independently
    for k in range(2):
        _, cumulative = G.dense_length(_np(net), np.linspace(za[k], zb[k], 41), 16)
        assert cumulative[-1] == pytest.approx(line[k], rel=1e-12)
    # frames are evenly spaced in image space (to the chord-vs-arc error of 9 frames)
    with torch.no_grad():
        images = net(torch.as_tensor(ps.z)).numpy().reshape(2, 9, -1)
    gaps = np.linalg.norm(np.diff(images, axis=1), axis=2)
    assert (gaps.max(axis=1) / gaps.min(axis=1) < 1.15).all(), gaps
    # each stage ends at no more energy than its straight line (plus the Euclidean term's share)
    assert all(row["energy"] <= row["line_energy"] * 1.01 for row in history)


def test_geodesic_is_deterministic_and_checks_its_settings() -> None:
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 6)).double()
    za, zb = np.array([[1.0, -1.0]]), np.array([[-1.0, 2.0]])
    a, _ = G.geodesic(net, za, zb, 5, G.Solver(nodes=(5, 9)))
    b, _ = G.geodesic(net, za, zb, 5, G.Solver(nodes=(5, 9)))
    np.testing.assert_array_equal(a.z, b.z)
    with pytest.raises(LatentwalkError, match=r"paths.geodesic.nodes must be increasing node counts >= 3, got \[11, 11\]"):
        G.geodesic(net, za, zb, 5, G.Solver(nodes=(11, 11)))
    with pytest.raises(LatentwalkError, match="euclidean_weight must be >= 0"):
        G.geodesic(net, za, zb, 5, G.Solver(euclidean_weight=-1.0))
