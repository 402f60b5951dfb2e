"""The decoder's magnification and uncertainty (latentwalk.walks.metric), and the fair comparison of pair
interpolations (latentwalk.measure.path_stats.shared_pairs)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from latentwalk.walks.pathset import on_shared_pairs, shared_pairs
from latentwalk.walks.geodesic import magnification_map
from latentwalk.walks.metric import fit_variance_network, magnification, plane_basis


def test_the_magnification_of_a_linear_decoder_is_sqrt_det_wtw_everywhere() -> None:
    rng = np.random.default_rng(3)
    weight = rng.standard_normal((7, 2))  # 2-D latent -> 7 pixels
    decode = (lambda z: z @ torch.as_tensor(weight.T))
    points = rng.standard_normal((25, 2)) * 3
    np.testing.assert_allclose(magnification(decode, points, np.eye(2)), np.sqrt(np.linalg.det(weight.T @ weight)),
                               rtol=1e-12)
    # a 5-D linear decoder on an orthonormal plane: sqrt(det(B^T W^T W B)), the same at every point
    big = rng.standard_normal((9, 5))
    basis = np.linalg.qr(rng.standard_normal((5, 2)))[0]
    values = magnification(lambda z: z @ torch.as_tensor(big.T), rng.standard_normal((6, 5)), basis)
    np.testing.assert_allclose(values, np.sqrt(np.linalg.det(basis.T @ big.T @ big @ basis)), rtol=1e-12)


def test_the_map_covers_the_codes_on_their_principal_plane() -> None:
    rng = np.random.default_rng(0)
    codes = rng.standard_normal((200, 4)) * np.array([3.0, 1.0, 0.1, 0.1]) + 5.0
    origin, basis = plane_basis(codes)
    np.testing.assert_allclose(origin, codes.mean(axis=0))
    assert abs(basis[0, 0]) > 0.99 and abs(basis[1, 1]) > 0.99  # the two directions of largest spread
    np.testing.assert_array_equal(plane_basis(codes[:, :2])[1], np.eye(2))  # a 2-D run: the latent plane itself
    grid = magnification_map(lambda z: torch.tanh(z), codes, side=8)
    plane = (codes - origin) @ basis
    assert grid["values"].shape == (8, 8) and grid["u"][0] < plane[:, 0].min() and grid["u"][-1] > plane[:, 0].max()
    assert np.all(grid["values"] > 0) and np.all(grid["values"] <= 1.0 + 1e-12)  # tanh contracts


def test_the_variance_network_is_precise_at_the_codes_and_falls_off_with_distance() -> None:
    """1-D by hand: codes spread evenly in [-0.5, 0.5] (one centre at 0, mean distance 0.25), residual variance 0.01
    per pixel: lambda = 0.5 / 0.25^2 = 8, w = 1 / 0.01 - 1 = 99, so sigma(z) = (1 + 99 exp(-4 z^2))^-1/2."""
    codes = np.linspace(-0.5, 0.5, 101)[:, None]
    network = fit_variance_network(codes, np.full((101, 3), 0.01), centres=1, reach=1.0)
    assert network.centres[0, 0] == pytest.approx(0.0, abs=1e-12)
    spread = np.abs(codes[:, 0]).mean()
    assert network.bandwidths[0] == pytest.approx(0.5 / spread**2)
    np.testing.assert_allclose(network.weights, 99.0)
    z = torch.tensor([[0.0], [0.5], [1.0], [3.0]], dtype=torch.float64)
    expected = (1.0 + 99.0 * np.exp(-0.5 * network.bandwidths[0] * z.numpy() ** 2)) ** -0.5
    np.testing.assert_allclose(network.std(z).numpy(), np.repeat(expected, 3, axis=1), rtol=1e-12)
    sigma = network.std(z)[:, 0].numpy()
    assert sigma[0] == pytest.approx(0.1) and np.all(np.diff(sigma) > 0) and sigma[-1] == pytest.approx(1.0, abs=1e-6)
    assert network.summary()["sigma_far"] == 1.0 and network.summary()["centres"] == 1


def test_the_summary_compares_pair_interpolations_on_the_pairs_they_all_walk() -> None:
    def table(method: str, pairs: list[tuple[int, int]]) -> pd.DataFrame:
        return pd.DataFrame({"method": method, "index_a": [a for a, _ in pairs for _ in range(3)],
                             "index_b": [b for _, b in pairs for _ in range(3)]})

    lerp = table("lerp", [(1, 2), (3, 4), (5, 6), (7, 8)])
    geodesic = table("geodesic", [(1, 2), (3, 4)])
    grid = pd.DataFrame({"method": ["grid"] * 5})
    shared = shared_pairs([lerp, geodesic, grid])
    assert shared == {(1, 2), (3, 4)}
    assert on_shared_pairs(lerp, shared).tolist() == [True] * 6 + [False] * 6
    assert on_shared_pairs(geodesic, shared).all() and on_shared_pairs(grid, shared).all()
    assert shared_pairs([grid]) is None and on_shared_pairs(lerp, None).all()


def test_the_variance_aware_geodesic_goes_around_a_hole_and_the_mean_one_does_not() -> None:
    """Codes on a ring of radius 1 around an empty disc; the mean decoder is the identity (its geodesics are straight
    lines). Between opposite points of the ring the variance-aware geodesic follows the data round the hole."""
    from latentwalk.walks.geodesic import Solver, geodesic

    angles = np.linspace(0.0, 2.0 * np.pi, 240, endpoint=False)
    codes = np.column_stack([np.cos(angles), np.sin(angles)])
    network = fit_variance_network(codes, np.full((240, 64), 1e-4), centres=24, reach=2.0, seed=0)  # 64 pixels
    assert float(network.std(torch.zeros(1, 2, dtype=torch.float64))[0, 0]) > 0.4  # the hole: uncertain
    assert float(network.std(torch.tensor([[1.0, 0.0]], dtype=torch.float64))[0, 0]) < 0.05  # on the ring: sure

    def mean(z: torch.Tensor) -> torch.Tensor:
        return z

    def expected(z: torch.Tensor) -> torch.Tensor:
        return torch.cat([z, network.std(z)], dim=1)

    za, zb = np.array([[-1.0, 0.0]]), np.array([[np.cos(0.1), np.sin(0.1)]])  # not quite opposite: no symmetric trap
    straight, _ = geodesic(mean, za, zb, 11, Solver(nodes=(11, 21), iterations=400))
    around, _ = geodesic(expected, za, zb, 11, Solver(nodes=(11, 21, 41), iterations=400, midpoints=True))
    line = np.linspace(za[0], zb[0], 11)
    assert np.abs(straight.z - line).max() < 1e-6  # the mean metric: the straight line through the hole
    radii = np.linalg.norm(around.z, axis=1)
    assert radii.min() > 0.4 and around.z[5, 1] > 0.4  # bowed round the empty middle, on the side of the short arc
    # far shorter than the straight line under the metric it minimises (the line climbs into the hole's uncertainty)
    assert around.columns["dense_length"][0] < 0.5 * around.columns["line_dense_length"][0]


def test_the_data_graph_starts_the_variance_geodesic_round_a_flat_hole() -> None:
    """Exactly opposite points of a ring whose hole the network leaves flat at sigma_far (narrow RBFs): started on
    the straight line the solver finds no gradient in the hole and stays there (no shorter than the line); started
    along the data graph it goes round, far shorter."""
    from latentwalk.walks.geodesic import Solver, geodesic

    angles = np.linspace(0.0, 2.0 * np.pi, 240, endpoint=False)
    codes = np.column_stack([np.cos(angles), np.sin(angles)])
    network = fit_variance_network(codes, np.full((240, 64), 1e-4), centres=24, reach=1.0, seed=0)

    def expected(z: torch.Tensor) -> torch.Tensor:
        return torch.cat([z, network.std(z)], dim=1)

    za, zb = np.array([[-1.0, 0.0]]), np.array([[1.0, 0.0]])
    solver = Solver(nodes=(11, 21, 41), iterations=400, midpoints=True)
    stuck, _ = geodesic(expected, za, zb, 11, solver)
    around, history = geodesic(expected, za, zb, 11, solver, data=codes)
    assert np.abs(stuck.z[:, 1]).max() < 0.25  # across the hole (the ring has radius 1), near the diameter
    assert stuck.columns["dense_length"][0] > 0.9 * stuck.columns["line_dense_length"][0]
    assert np.linalg.norm(around.z, axis=1).min() > 0.7 and [h["start"] for h in history][-1] == "chosen: data graph"
    assert around.columns["dense_length"][0] < 0.25 * around.columns["line_dense_length"][0]


def test_graph_paths_follow_the_codes_and_give_none_between_unjoined_clusters() -> None:
    from latentwalk.walks.geodesic import graph_paths

    angles = np.linspace(0.0, 2.0 * np.pi, 60, endpoint=False)
    ring = np.column_stack([np.cos(angles), np.sin(angles)])
    za, zb = np.array([[-1.0, 0.05]]), np.array([[1.0, -0.05]])
    (path,) = graph_paths(lambda z: z, ring, za, zb)
    np.testing.assert_array_equal(path[[0, -1]], np.concatenate([za, zb]))
    np.testing.assert_allclose(np.linalg.norm(path[1:-1], axis=1), 1.0)  # round the ring on its codes, not across
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert steps.max() < 0.6 and len(path) >= 7  # hops between graph neighbours (the 10th is 0.52 away)
    clusters = np.concatenate([np.random.default_rng(0).normal(size=(20, 2)) * 0.1,
                               np.random.default_rng(1).normal(size=(20, 2)) * 0.1 + 10.0])
    assert graph_paths(lambda z: z, clusters, np.zeros((1, 2)), np.full((1, 2), 10.0)) == [None]
