"""Tests for latentwalk.walks.pathset: every latent walk of SPEC section 5, exact where the math is exact."""

from __future__ import annotations

import numpy as np
import pytest
from _helpers import one_line
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats

from latentwalk.core.io import LatentwalkError
from latentwalk.walks import interpolate, pathset, traverse

DIMS = st.integers(2, 512)
SEEDS = st.integers(0, 2**32 - 1)
STEPS = st.integers(2, 40)
FAST = settings(max_examples=40, deadline=None)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle between rows of ``a`` and ``b``, accurate for small and large angles (no arccos)."""
    ua = a / np.linalg.norm(a, axis=-1, keepdims=True)
    ub = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return 2.0 * np.arctan2(np.linalg.norm(ua - ub, axis=-1), np.linalg.norm(ua + ub, axis=-1))


def _pair(seed: int, d: int, n: int = 1, equal_norm: bool = False) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    za = rng.standard_normal((n, d)) * rng.uniform(0.2, 5.0)
    zb = rng.standard_normal((n, d)) * rng.uniform(0.2, 5.0)
    if equal_norm:
        zb *= (np.linalg.norm(za, axis=1) / np.linalg.norm(zb, axis=1))[:, None]
    return za, zb


def _paths(ps: pathset.PathSet, n_paths: int) -> np.ndarray:
    """(n_paths, steps, d) view of a path set whose paths are contiguous and equally long."""
    return ps.z.reshape(n_paths, -1, ps.z.shape[1])


# --------------------------------------------------------------------------- lerp


def test_lerp_hand_values_and_columns() -> None:
    ps = interpolate.lerp(np.array([0.0, 0.0]), np.array([2.0, 4.0]), 3)
    np.testing.assert_array_equal(ps.z, [[0, 0], [1, 2], [2, 4]])
    np.testing.assert_array_equal(ps.columns["path_id"], [0, 0, 0])
    np.testing.assert_array_equal(ps.columns["step"], [0, 1, 2])
    np.testing.assert_array_equal(ps.columns["t"], [0.0, 0.5, 1.0])
    assert ps.n_paths == 1


@FAST
@given(seed=SEEDS, d=DIMS, steps=STEPS, n=st.integers(1, 4))
def test_lerp_endpoints_exact_and_formula(seed: int, d: int, steps: int, n: int) -> None:
    za, zb = _pair(seed, d, n)
    ps = interpolate.lerp(za, zb, steps)
    pts = _paths(ps, n)
    assert pts.shape == (n, steps, d)
    np.testing.assert_array_equal(pts[:, 0], za)
    np.testing.assert_array_equal(pts[:, -1], zb)
    t = np.linspace(0.0, 1.0, steps)
    expected = za[:, None, :] + t[None, :, None] * (zb - za)[:, None, :]
    np.testing.assert_allclose(pts, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
    np.testing.assert_array_equal(ps.columns["path_id"], np.repeat(np.arange(n), steps))
    np.testing.assert_array_equal(ps.columns["step"], np.tile(np.arange(steps), n))
    np.testing.assert_array_equal(ps.columns["t"], np.tile(t, n))


@FAST
@given(seed=SEEDS, d=DIMS, r=st.floats(0.01, 100.0), half=st.integers(1, 20))
def test_lerp_midpoint_of_orthogonal_vectors_has_norm_r_over_sqrt2(seed: int, d: int, r: float, half: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(d)
    b = rng.standard_normal(d)
    b -= (a @ b) / (a @ a) * a  # Gram-Schmidt
    za, zb = r * a / np.linalg.norm(a), r * b / np.linalg.norm(b)
    ps = interpolate.lerp(za, zb, 2 * half + 1)
    assert ps.columns["t"][half] == 0.5
    np.testing.assert_allclose(ps.norm[half], r / np.sqrt(2.0), rtol=1e-12)


def test_lerp_rejects_bad_input() -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        interpolate.lerp(np.zeros((2, 3)), np.zeros((2, 4)), 5)
    one_line(excinfo, "shape")
    with pytest.raises(LatentwalkError) as excinfo:
        interpolate.lerp(np.ones(3), np.zeros(3), 1)
    one_line(excinfo, "steps", "1")


# --------------------------------------------------------------------------- slerp


def test_slerp_hand_values() -> None:
    ps = interpolate.slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 3)
    h = np.sqrt(0.5)
    np.testing.assert_allclose(ps.z, [[1, 0], [h, h], [0, 1]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(ps.columns["omega"], np.full(3, np.pi / 2), rtol=1e-15)
    # 60-degree arc in thirds: 0, 20, 40, 60 degrees
    ps = interpolate.slerp(np.array([2.0, 0.0]), 2.0 * np.array([0.5, np.sqrt(0.75)]), 4)
    deg = np.deg2rad([0, 20, 40, 60])
    np.testing.assert_allclose(ps.z, 2.0 * np.column_stack([np.cos(deg), np.sin(deg)]), rtol=0, atol=1e-14)


@FAST
@given(seed=SEEDS, d=DIMS, steps=STEPS, normalize=st.sampled_from(["none", "radius", "sqrt_d"]), n=st.integers(1, 3))
def test_slerp_endpoints(seed: int, d: int, steps: int, normalize: str, n: int) -> None:
    za, zb = _pair(seed, d, n)
    assume(np.all(_angle(za, zb) < np.pi - 1e-3))
    pts = _paths(interpolate.slerp(za, zb, steps, normalize), n)
    if normalize == "sqrt_d":  # every point, endpoints included, is moved onto the sqrt(d) sphere
        scale = np.sqrt(d)
        np.testing.assert_allclose(pts[:, 0], za / np.linalg.norm(za, axis=1, keepdims=True) * scale, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(pts[:, -1], zb / np.linalg.norm(zb, axis=1, keepdims=True) * scale, rtol=1e-12, atol=1e-12)
    else:
        np.testing.assert_array_equal(pts[:, 0], za)
        np.testing.assert_array_equal(pts[:, -1], zb)


@FAST
@given(seed=SEEDS, d=DIMS, steps=st.integers(3, 40))
def test_slerp_classic_formula_constant_speed_and_norm(seed: int, d: int, steps: int) -> None:
    za, zb = _pair(seed, d, equal_norm=True)
    omega = _angle(za, zb)[0]
    assume(0.05 < omega < np.pi - 0.05)
    ps = interpolate.slerp(za, zb, steps)
    z = ps.z
    t = np.linspace(0.0, 1.0, steps)[:, None]
    expected = (np.sin((1 - t) * omega) * za + np.sin(t * omega) * zb) / np.sin(omega)
    np.testing.assert_allclose(z, expected, rtol=1e-9, atol=1e-9 * np.linalg.norm(za))
    np.testing.assert_allclose(ps.columns["omega"], omega, rtol=1e-9)
    # constant angular speed: equal angles between consecutive points, each Omega / (steps - 1)
    np.testing.assert_allclose(_angle(z[:-1], z[1:]), omega / (steps - 1), rtol=1e-6)
    # the angle from z_a grows linearly in t
    np.testing.assert_allclose(_angle(np.repeat(za, steps, 0), z), omega * t[:, 0], rtol=1e-6, atol=1e-12)
    # equal-norm endpoints: constant norm
    np.testing.assert_allclose(ps.norm, np.linalg.norm(za), rtol=1e-6)


def test_slerp_unequal_norms_classic_formula_is_not_constant_norm() -> None:
    """normalize='none' is the raw formula: with |z_a| != |z_b| the norm is not interpolated linearly."""
    ps = interpolate.slerp(np.array([1.0, 0.0]), np.array([0.0, 3.0]), 3)
    np.testing.assert_allclose(ps.z[1], np.sqrt(0.5) * np.array([1.0, 3.0]), rtol=1e-14)


@FAST
@given(seed=SEEDS, d=DIMS, steps=st.integers(3, 40), n=st.integers(1, 3))
def test_slerp_radius_and_sqrt_d(seed: int, d: int, steps: int, n: int) -> None:
    za, zb = _pair(seed, d, n)
    omega = _angle(za, zb)
    assume(np.all((omega > 0.05) & (omega < np.pi - 0.05)))
    t = np.linspace(0.0, 1.0, steps)
    na, nb = np.linalg.norm(za, axis=1), np.linalg.norm(zb, axis=1)
    radius = _paths(interpolate.slerp(za, zb, steps, "radius"), n)
    sqrt_d = _paths(interpolate.slerp(za, zb, steps, "sqrt_d"), n)
    for p in range(n):
        ua, ub = za[p] / na[p], zb[p] / nb[p]
        unit = (np.sin((1 - t)[:, None] * omega[p]) * ua + np.sin(t[:, None] * omega[p]) * ub) / np.sin(omega[p])
        # radius: linear in t; direction: the great circle of the unit endpoints at constant angular speed
        np.testing.assert_allclose(np.linalg.norm(radius[p], axis=1), (1 - t) * na[p] + t * nb[p], rtol=1e-9)
        np.testing.assert_allclose(radius[p] / np.linalg.norm(radius[p], axis=1, keepdims=True), unit, rtol=0, atol=1e-9)
        np.testing.assert_allclose(_angle(radius[p][:-1], radius[p][1:]), omega[p] / (steps - 1), rtol=1e-6)
        # sqrt_d: the same directions on the sphere of radius sqrt(d)
        np.testing.assert_allclose(np.linalg.norm(sqrt_d[p], axis=1), np.sqrt(d), rtol=1e-12)
        np.testing.assert_allclose(sqrt_d[p], unit * np.sqrt(d), rtol=0, atol=1e-9 * np.sqrt(d))


@pytest.mark.parametrize("normalize", ["none", "radius", "sqrt_d"])
@pytest.mark.parametrize("angle", [0.0, 1e-12, 1e-9, 1e-7])
def test_slerp_small_angle_falls_back_to_lerp(normalize: str, angle: float) -> None:
    rng = np.random.default_rng(11)
    d = 16
    u = rng.standard_normal(d)
    u /= np.linalg.norm(u)
    w = rng.standard_normal(d)
    w -= (w @ u) * u
    w /= np.linalg.norm(w)
    za = 3.0 * u
    zb = 3.0 * (np.cos(angle) * u + np.sin(angle) * w)
    ps = interpolate.slerp(za, zb, 9, normalize)
    assert np.all(np.isfinite(ps.z))
    scale = np.sqrt(d) / 3.0 if normalize == "sqrt_d" else 1.0
    np.testing.assert_allclose(ps.z, interpolate.lerp(za, zb, 9).z * scale, rtol=1e-12, atol=1e-12)


def test_slerp_identical_and_parallel_endpoints_equal_lerp() -> None:
    za = np.array([1.0, -2.0, 0.5])
    for zb in (za.copy(), 3.0 * za, 1e-3 * za):
        ps = interpolate.slerp(za, zb, 7)
        assert np.all(np.isfinite(ps.z))
        np.testing.assert_allclose(ps.z, interpolate.lerp(za, zb, 7).z, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(ps.z[0], za)
        np.testing.assert_array_equal(ps.z[-1], zb)
    # parallel endpoints of different norms: radius mode interpolates the norm linearly on the fixed direction
    ps = interpolate.slerp(za, 3.0 * za, 5, "radius")
    np.testing.assert_allclose(ps.z, interpolate.lerp(za, 3.0 * za, 5).z, rtol=1e-12)


@pytest.mark.parametrize("normalize", ["none", "radius", "sqrt_d"])
@pytest.mark.parametrize("zb_of", [lambda a: -a, lambda a: -2.5 * a, lambda a: -(a + np.array([0.0, 1e-9, 0.0]))])
def test_slerp_antipodal_endpoints_raise(normalize: str, zb_of) -> None:
    za = np.array([[1.0, 2.0, -3.0], [1.0, 0.0, 0.0]])
    zb = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    zb[1] = zb_of(za[1])
    with pytest.raises(LatentwalkError) as excinfo:
        interpolate.slerp(za, zb, 5, normalize)
    one_line(excinfo, "antipodal", "pair 1")


def test_slerp_just_below_antipodal_tolerance_is_fine() -> None:
    angle = np.pi - 1e-3
    ps = interpolate.slerp(np.array([1.0, 0.0]), np.array([np.cos(angle), np.sin(angle)]), 5)
    assert np.all(np.isfinite(ps.z))
    np.testing.assert_allclose(ps.norm, 1.0, rtol=1e-9)


@pytest.mark.parametrize("which", ["a", "b"])
@pytest.mark.parametrize("normalize", ["none", "radius", "sqrt_d"])
def test_slerp_zero_endpoint_raises(which: str, normalize: str) -> None:
    z = np.array([1.0, 2.0])
    zero = np.zeros(2)
    za, zb = (zero, z) if which == "a" else (z, zero)
    with pytest.raises(LatentwalkError) as excinfo:
        interpolate.slerp(za, zb, 5, normalize)
    one_line(excinfo, "zero vector")


def test_slerp_bad_normalize_raises() -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        interpolate.slerp(np.array([1.0, 0.0]), np.array([0.0, 1.0]), 5, "circle")
    one_line(excinfo, "'circle'", "'none'", "'radius'", "'sqrt_d'")


# --------------------------------------------------------------------------- lerp_matched


def test_lerp_matched_hand_values() -> None:
    ps = interpolate.lerp_matched(np.array([2.0, 0.0]), np.array([0.0, 2.0]), 3)
    np.testing.assert_allclose(ps.z, [[2, 0], [np.sqrt(2), np.sqrt(2)], [0, 2]], rtol=1e-15)
    np.testing.assert_allclose(ps.columns["scale"], [1.0, np.sqrt(0.5), 1.0], rtol=1e-15)


@FAST
@given(seed=SEEDS, d=DIMS, steps=STEPS, n=st.integers(1, 3))
def test_lerp_matched_endpoints_and_formula(seed: int, d: int, steps: int, n: int) -> None:
    za, zb = _pair(seed, d, n)
    pts = _paths(interpolate.lerp_matched(za, zb, steps), n)
    np.testing.assert_array_equal(pts[:, 0], za)
    np.testing.assert_array_equal(pts[:, -1], zb)
    t = np.linspace(0, 1, steps)[None, :, None]
    expected = ((1 - t) * za[:, None] + t * zb[:, None]) / np.sqrt(t**2 + (1 - t) ** 2)
    np.testing.assert_allclose(pts, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


def test_lerp_matched_midpoint_norm_is_chi_distributed() -> None:
    d, n = 64, 4000
    rng = np.random.default_rng(12345)
    za, zb = rng.standard_normal((2, n, d))
    matched = _paths(interpolate.lerp_matched(za, zb, 3), n)[:, 1]
    plain = _paths(interpolate.lerp(za, zb, 3), n)[:, 1]
    chi = stats.chi(d)
    assert stats.kstest(np.linalg.norm(matched, axis=1), chi.cdf).pvalue > 0.01
    assert stats.kstest(np.linalg.norm(plain, axis=1), chi.cdf).pvalue < 1e-6
    # the endpoints themselves are chi(d) too
    assert stats.kstest(np.linalg.norm(za, axis=1), chi.cdf).pvalue > 0.01


# --------------------------------------------------------------------------- prior_pairs


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, d=DIMS, steps=STEPS, n=st.integers(1, 6))
def test_prior_pairs_structure(seed: int, d: int, steps: int, n: int) -> None:
    ps = interpolate.prior_pairs(n, d, steps, np.random.default_rng(seed))
    variants = ("lerp", "slerp", "lerp_matched")
    assert len(ps.z) == len(variants) * n * steps
    pts = _paths(ps, len(variants) * n)
    # path ids: unique per (variant, pair), contiguous 0 .. 3n - 1
    np.testing.assert_array_equal(ps.columns["path_id"], np.repeat(np.arange(3 * n), steps))
    np.testing.assert_array_equal(ps.columns["variant"], np.repeat(variants, n * steps))
    np.testing.assert_array_equal(ps.columns["pair"], np.tile(np.repeat(np.arange(n), steps), 3))
    np.testing.assert_array_equal(ps.columns["step"], np.tile(np.arange(steps), 3 * n))
    keys = {(v, p) for v, p in zip(ps.columns["variant"], ps.columns["pair"])}
    assert len(keys) == ps.n_paths == 3 * n
    # endpoints: norm sqrt(d), shared by the variants of one pair
    ends = pts[:, [0, -1]]
    np.testing.assert_allclose(np.linalg.norm(ends, axis=2), np.sqrt(d), rtol=1e-12)
    np.testing.assert_array_equal(ends[n : 2 * n], ends[:n])
    np.testing.assert_array_equal(ends[2 * n :], ends[:n])
    # slerp between equal-norm endpoints: every point on the sqrt(d) sphere
    np.testing.assert_allclose(np.linalg.norm(pts[n : 2 * n], axis=2), np.sqrt(d), rtol=1e-9)
    # each variant is the named interpolation of those endpoints
    np.testing.assert_array_equal(pts[:n].reshape(-1, d), interpolate.lerp(ends[:n, 0], ends[:n, 1], steps).z)
    np.testing.assert_array_equal(pts[2 * n :].reshape(-1, d), interpolate.lerp_matched(ends[:n, 0], ends[:n, 1], steps).z)


def test_prior_pairs_500d_lerp_sinks_slerp_does_not() -> None:
    d, n, steps = 500, 20, 11
    ps = interpolate.prior_pairs(n, d, steps, np.random.default_rng(2017))
    pts = _paths(ps, 3 * n)
    lerp_mid = np.linalg.norm(pts[:n, steps // 2], axis=1)
    assert abs(lerp_mid.mean() / np.sqrt(d / 2) - 1) < 0.03
    assert np.all(np.abs(lerp_mid / np.sqrt(d / 2) - 1) < 0.1)
    np.testing.assert_allclose(np.linalg.norm(pts[n : 2 * n], axis=2), np.sqrt(d), rtol=1e-9)
    matched_mid = np.linalg.norm(pts[2 * n :, steps // 2], axis=1)
    assert abs(matched_mid.mean() / np.sqrt(d) - 1) < 0.03


def test_prior_pairs_seeded_variants_subset_and_errors() -> None:
    a = interpolate.prior_pairs(3, 7, 5, np.random.default_rng(1))
    b = interpolate.prior_pairs(3, 7, 5, np.random.default_rng(1))
    c = interpolate.prior_pairs(3, 7, 5, np.random.default_rng(2))
    np.testing.assert_array_equal(a.z, b.z)
    assert not np.array_equal(a.z, c.z)
    only = interpolate.prior_pairs(3, 7, 5, np.random.default_rng(1), ["slerp"])
    assert set(only.columns["variant"]) == {"slerp"}
    np.testing.assert_array_equal(only.z, a.z[15:30])
    np.testing.assert_array_equal(only.columns["path_id"], np.repeat(np.arange(3), 5))
    with pytest.raises(LatentwalkError) as excinfo:
        interpolate.prior_pairs(3, 7, 5, np.random.default_rng(1), ["lerp", "wobble"])
    one_line(excinfo, "'wobble'")
    with pytest.raises(LatentwalkError) as excinfo:
        interpolate.prior_pairs(0, 7, 5, np.random.default_rng(1))
    one_line(excinfo, "n must be >= 1")


# --------------------------------------------------------------------------- traverse_axis


@FAST
@given(seed=SEEDS, d=DIMS, steps=STEPS, value_range=st.floats(0.01, 10.0), data=st.data())
def test_traverse_axis_moves_only_its_dimension(seed: int, d: int, steps: int, value_range: float, data) -> None:
    z_start = np.random.default_rng(seed).standard_normal(d)
    dims = data.draw(st.lists(st.integers(0, d - 1), min_size=1, max_size=5, unique=True))
    ps = traverse.traverse_axis(z_start, dims, value_range, steps)
    pts = _paths(ps, len(dims))
    delta = np.linspace(-value_range, value_range, steps)
    np.testing.assert_array_equal(ps.columns["delta"], np.tile(delta, len(dims)))
    np.testing.assert_array_equal(ps.columns["dim"], np.repeat(dims, steps))
    np.testing.assert_array_equal(ps.columns["path_id"], np.repeat(np.arange(len(dims)), steps))
    np.testing.assert_array_equal(ps.columns["step"], np.tile(np.arange(steps), len(dims)))
    assert ps.columns["delta"][0] == -value_range and ps.columns["delta"][steps - 1] == value_range
    for p, i in enumerate(dims):
        others = np.arange(d) != i
        np.testing.assert_array_equal(pts[p][:, others], np.broadcast_to(z_start[others], (steps, d - 1)))
        np.testing.assert_array_equal(pts[p][:, i], z_start[i] + delta)


def test_traverse_axis_hand_values() -> None:
    ps = traverse.traverse_axis(np.array([1.0, 2.0, 3.0]), [2, 0], 1.0, 3)
    np.testing.assert_array_equal(ps.z, [[1, 2, 2], [1, 2, 3], [1, 2, 4], [0, 2, 3], [1, 2, 3], [2, 2, 3]])


@pytest.mark.parametrize("dims", [[3], [0, 5], [-1]])
def test_traverse_axis_out_of_range_raises(dims: list[int]) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        traverse.traverse_axis(np.zeros(3), dims, 1.0, 5)
    one_line(excinfo, "out of range", "3")


# --------------------------------------------------------------------------- traverse_pca / pca_basis


def _anisotropic(seed: int, n: int, d: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    scales = np.geomspace(5.0, 0.1, d)
    return (rng.standard_normal((n, d)) * scales) @ q.T + rng.uniform(-3, 3, d)


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, d=DIMS, k=st.integers(1, 5), steps=STEPS, value_range=st.floats(0.1, 5.0))
def test_traverse_pca_moves_along_its_component(seed: int, d: int, k: int, steps: int, value_range: float) -> None:
    latents = _anisotropic(seed, 120, d)
    mean, basis, std = traverse.pca_basis(latents, k)
    kk = min(k, d)
    assert basis.shape == (kk, d) and std.shape == (kk,)
    np.testing.assert_allclose(mean, latents.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(basis @ basis.T, np.eye(kk), rtol=0, atol=1e-10)
    proj = (latents - mean) @ basis.T
    np.testing.assert_allclose(std, proj.std(axis=0, ddof=1), rtol=1e-9)
    # the top-k principal directions: sigma_k^2 are the largest eigenvalues of the sample covariance
    eig = np.linalg.eigvalsh(np.cov(latents, rowvar=False))[::-1][:kk]
    np.testing.assert_allclose(std**2, eig, rtol=1e-8)
    # deterministic sign: the largest-magnitude coordinate of every direction is positive
    assert np.all(basis[np.arange(kk), np.abs(basis).argmax(axis=1)] > 0)

    ps = traverse.traverse_pca(latents, k, value_range, steps)
    pts = _paths(ps, kk)
    delta = np.linspace(-value_range, value_range, steps)
    np.testing.assert_array_equal(ps.columns["delta"], np.tile(delta, kk))
    np.testing.assert_array_equal(ps.columns["component"], np.repeat(np.arange(kk), steps))
    np.testing.assert_allclose(ps.columns["component_std"], np.repeat(std, steps), rtol=1e-12)
    for c in range(kk):
        expected = mean + (delta * std[c])[:, None] * basis[c]
        np.testing.assert_allclose(pts[c], expected, rtol=0, atol=1e-9 * (1 + np.abs(expected).max()))
        # z - start is parallel to v_c with coefficient delta * sigma_c
        np.testing.assert_allclose((pts[c] - mean) @ basis[c], delta * std[c], rtol=0, atol=1e-9 * (1 + std[c]))


def test_traverse_pca_start_is_mean_or_given() -> None:
    latents = _anisotropic(3, 200, 6)
    ps = traverse.traverse_pca(latents, 2, 2.0, 5)
    pts = _paths(ps, 2)
    np.testing.assert_allclose(pts[:, 2], np.broadcast_to(latents.mean(axis=0), (2, 6)), rtol=1e-12, atol=1e-12)
    start = np.arange(6.0)
    ps = traverse.traverse_pca(latents, 2, 2.0, 5, z_start=start)
    np.testing.assert_array_equal(_paths(ps, 2)[:, 2], np.broadcast_to(start, (2, 6)))
    # components are clipped to the latent dim
    assert traverse.traverse_pca(latents[:, :2], 4, 1.0, 3).n_paths == 2


def test_pca_basis_matches_svd() -> None:
    latents = _anisotropic(8, 300, 5)
    _, basis, std = traverse.pca_basis(latents, 3)
    _, s, vt = np.linalg.svd(latents - latents.mean(axis=0), full_matrices=False)
    np.testing.assert_allclose(np.abs(np.sum(basis * vt[:3], axis=1)), 1.0, rtol=0, atol=1e-9)
    np.testing.assert_allclose(std, s[:3] / np.sqrt(len(latents) - 1), rtol=1e-9)


# --------------------------------------------------------------------------- attribute


def test_attribute_direction_and_alpha() -> None:
    rng = np.random.default_rng(4)
    latents = rng.standard_normal((60, 5))
    labels = np.repeat(np.arange(6), 10)
    starts = latents[labels == 1][:3]
    alphas = np.array([0.0, 0.5, 1.0, 1.5])
    ps = traverse.attribute(latents, labels, 4, 1, starts, alphas)
    direction = latents[labels == 4].mean(axis=0) - latents[labels == 1].mean(axis=0)
    pts = _paths(ps, 3)
    np.testing.assert_array_equal(pts[:, 0], starts)  # alpha = 0
    np.testing.assert_array_equal(pts[:, 2], starts + direction)  # alpha = 1
    np.testing.assert_allclose(pts, starts[:, None] + alphas[None, :, None] * direction, rtol=1e-14, atol=1e-14)
    np.testing.assert_array_equal(ps.columns["alpha"], np.tile(alphas, 3))
    np.testing.assert_array_equal(ps.columns["path_id"], np.repeat(np.arange(3), 4))
    np.testing.assert_array_equal(ps.columns["class_a"], 4)
    np.testing.assert_array_equal(ps.columns["class_b"], 1)
    np.testing.assert_allclose(ps.columns["direction_norm"], np.linalg.norm(direction), rtol=1e-14)


def test_attribute_hand_values() -> None:
    latents = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 2.0]])
    labels = np.array([0, 0, 1, 1])
    ps = traverse.attribute(latents, labels, 1, 0, np.array([[10.0, 10.0]]), np.array([0.0, 1.0, 2.0]))
    # mean(1) - mean(0) = (0, 3) - (1, 0) = (-1, 3)
    np.testing.assert_array_equal(ps.z, [[10, 10], [9, 13], [8, 16]])


@pytest.mark.parametrize(("class_a", "class_b", "missing"), [(9, 0, "9"), (0, 7, "7")])
def test_attribute_missing_class_raises(class_a: int, class_b: int, missing: str) -> None:
    latents = np.zeros((4, 2))
    labels = np.array([0, 0, 1, 1])
    with pytest.raises(LatentwalkError) as excinfo:
        traverse.attribute(latents, labels, class_a, class_b, latents[:1], np.array([0.0, 1.0]))
    one_line(excinfo, f"class {missing}")


# --------------------------------------------------------------------------- grid


def test_grid_latent_layout() -> None:
    ps = traverse.grid(3, 1.0)
    np.testing.assert_array_equal(
        ps.z, [[-1, 1], [0, 1], [1, 1], [-1, 0], [0, 0], [1, 0], [-1, -1], [0, -1], [1, -1]]
    )
    np.testing.assert_array_equal(ps.columns["path_id"], np.repeat(np.arange(3), 3))
    np.testing.assert_array_equal(ps.columns["step"], np.tile(np.arange(3), 3))


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 30), extent=st.floats(0.01, 10.0))
def test_grid_latent_coordinates(n: int, extent: float) -> None:
    ps = traverse.grid(n, extent)
    axis = np.linspace(-extent, extent, n)
    z = ps.z.reshape(n, n, 2)  # (row, column, coordinate)
    for i in range(n):
        np.testing.assert_array_equal(z[i, :, 0], axis)  # u along the row
        np.testing.assert_array_equal(z[i, :, 1], np.full(n, axis[n - 1 - i]))  # top row has the largest v
    assert z[0, 0, 1] == extent and z[-1, 0, 1] == -extent
    np.testing.assert_array_equal(ps.columns["u"], ps.z[:, 0])
    np.testing.assert_array_equal(ps.columns["v"], ps.z[:, 1])
    np.testing.assert_array_equal(ps.columns["path_id"], np.repeat(np.arange(n), n))
    np.testing.assert_array_equal(ps.columns["step"], np.tile(np.arange(n), n))


@settings(max_examples=30, deadline=None)
@given(seed=SEEDS, d=st.integers(2, 512), n=st.integers(2, 12), extent=st.floats(0.1, 5.0))
def test_grid_pca_plane(seed: int, d: int, n: int, extent: float) -> None:
    latents = _anisotropic(seed, 100, d)
    ps = traverse.grid(n, extent, "pca", latents)
    mean, basis, std = traverse.pca_basis(latents, 2)
    offset = ps.z - mean
    scale = 1 + np.abs(ps.z).max()
    # in the plane through the mean spanned by the top-2 PCs ...
    np.testing.assert_allclose(offset - (offset @ basis.T) @ basis, 0.0, rtol=0, atol=1e-9 * scale)
    # ... at (u sigma_1, v sigma_2)
    np.testing.assert_allclose(offset @ basis.T, np.column_stack([ps.columns["u"] * std[0], ps.columns["v"] * std[1]]),
                               rtol=0, atol=1e-9 * scale)
    latent_grid = traverse.grid(n, extent)
    np.testing.assert_array_equal(ps.columns["u"], latent_grid.columns["u"])
    np.testing.assert_array_equal(ps.columns["v"], latent_grid.columns["v"])
    # the grid centre (odd n) is the mean
    if n % 2:
        np.testing.assert_allclose(ps.z[(n * n) // 2], mean, rtol=0, atol=1e-12 * scale)


def test_grid_errors() -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        traverse.grid(3, 1.0, "polar")
    one_line(excinfo, "'polar'", "'latent'", "'pca'")
    with pytest.raises(LatentwalkError) as excinfo:
        traverse.grid(3, 1.0, "pca", None)
    one_line(excinfo, "d >= 2")
    with pytest.raises(LatentwalkError) as excinfo:
        traverse.grid(3, 1.0, "pca", np.zeros((10, 1)))
    one_line(excinfo, "d >= 2")
    with pytest.raises(LatentwalkError) as excinfo:
        traverse.grid(1, 1.0)
    one_line(excinfo, "n must be >= 2")


# --------------------------------------------------------------------------- spiral


@pytest.mark.parametrize("steps", [2, 3, 48, 1000])
def test_spiral_matches_formula(steps: int) -> None:
    ps = traverse.spiral(steps)
    t = np.linspace(0.0, 3 * np.pi, steps)
    np.testing.assert_array_equal(ps.columns["t"], t)
    np.testing.assert_array_equal(ps.z[:, 0], (0.2 * t - 2) * np.sin(t))
    np.testing.assert_array_equal(ps.z[:, 1], (0.2 * t - 2) * np.cos(t))
    np.testing.assert_array_equal(ps.columns["step"], np.arange(steps))
    np.testing.assert_array_equal(ps.columns["path_id"], np.zeros(steps))
    np.testing.assert_array_equal(traverse.spiral_xy(t), ps.z)


def test_spiral_hand_values() -> None:
    np.testing.assert_allclose(traverse.spiral_xy(np.array([0.0])), [[0.0, -2.0]], atol=1e-15)
    np.testing.assert_allclose(traverse.spiral_xy(np.array([np.pi / 2])), [[0.1 * np.pi - 2, 0.0]], atol=1e-15)
    np.testing.assert_allclose(traverse.spiral_xy(np.array([3 * np.pi])), [[0.0, 2 - 0.6 * np.pi]], atol=1e-15)
    np.testing.assert_allclose(traverse.spiral(3).z[-1], [0.0, 2 - 0.6 * np.pi], atol=1e-15)


# --------------------------------------------------------------------------- sphere_spiral


def test_sphere_coordinates_hand_values() -> None:
    h = np.sqrt(0.5)
    cases = [
        ([0.0], 2.0, [2.0, 0.0]),
        ([np.pi / 2], 2.0, [0.0, 2.0]),
        ([0.0, 0.0], 2.0, [2.0, 0.0, 0.0]),
        ([np.pi / 2, 0.0], 2.0, [0.0, 2.0, 0.0]),
        ([np.pi / 2, np.pi / 2], 1.0, [0.0, 0.0, 1.0]),
        ([np.pi / 3, np.pi / 4], 1.0, [0.5, np.sqrt(0.75) * h, np.sqrt(0.75) * h]),
        ([np.pi, 0.0], 3.0, [-3.0, 0.0, 0.0]),
        ([np.pi / 2, np.pi / 2, np.pi], 1.0, [0.0, 0.0, -1.0, 0.0]),
        ([np.pi / 2, np.pi / 2, np.pi / 2, np.pi / 2], 5.0, [0.0, 0.0, 0.0, 0.0, 5.0]),
    ]
    for theta, r, expected in cases:
        np.testing.assert_allclose(traverse.sphere_coordinates(np.array([theta]), r), [expected], rtol=0, atol=1e-15, err_msg=str(theta))
    # rows with their own radius
    out = traverse.sphere_coordinates(np.array([[0.0], [np.pi]]), np.array([1.0, 4.0]))
    np.testing.assert_allclose(out, [[1.0, 0.0], [-4.0, 0.0]], atol=1e-15)


@FAST
@given(d=DIMS, steps=STEPS, loops=st.floats(0.5, 10.0), radius=st.one_of(st.none(), st.floats(0.01, 100.0)))
def test_sphere_spiral_norm_ends_and_continuity(d: int, steps: int, loops: float, radius: float | None) -> None:
    ps = traverse.sphere_spiral(d, steps, loops, radius)
    r = np.sqrt(d) if radius is None else radius
    assert ps.z.shape == (steps, d)
    np.testing.assert_allclose(ps.norm, r, rtol=1e-9)
    np.testing.assert_allclose(ps.columns["radius"], r, rtol=1e-15)
    np.testing.assert_array_equal(ps.columns["t"], np.linspace(0, 1, steps))
    # starts at the pole (r, 0, ..., 0)
    expected_start = np.zeros(d)
    expected_start[0] = r
    np.testing.assert_array_equal(ps.z[0], expected_start)
    if d >= 3:  # ends at the opposite pole
        expected_end = -expected_start
        np.testing.assert_allclose(ps.z[-1], expected_end, rtol=0, atol=1e-12 * r)
    # continuity: a chord is at most the arc, and the speed |dx/ds| is at most r pi sqrt(d - 2 + 4 loops^2)
    # (metric r^2 sum_j prod_{i<j} sin^2 th_i dth_j^2 with dth_j = pi ds for j <= d-2, dth_{d-1} = 2 pi loops ds)
    bound = r * np.pi * np.sqrt(d - 2 + 4 * loops**2) / (steps - 1)
    steps_len = np.linalg.norm(np.diff(ps.z, axis=0), axis=1)
    assert steps_len.max() <= bound * (1 + 1e-9) + 1e-12 * r


def test_sphere_spiral_default_radius_and_3d_parametrisation() -> None:
    steps, loops = 240, 6.0
    ps = traverse.sphere_spiral(3, steps, loops)
    r = np.sqrt(3)
    s = np.linspace(0, 1, steps)
    th1, th2 = np.pi * s, 2 * np.pi * loops * s
    expected = np.column_stack([r * np.cos(th1), r * np.sin(th1) * np.cos(th2), r * np.sin(th1) * np.sin(th2)])
    np.testing.assert_allclose(ps.z, expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ps.columns["theta_first"], th1, rtol=1e-15)
    np.testing.assert_allclose(ps.columns["theta_last"], th2, rtol=1e-15)
    for d in (2, 7, 500):
        np.testing.assert_allclose(traverse.sphere_spiral(d, 10).norm, np.sqrt(d), rtol=1e-12)


@pytest.mark.parametrize("loops", [1.0, 2.5, 4.0])
def test_sphere_spiral_2d_is_a_circle_traversed_loops_times(loops: float) -> None:
    steps, r = 201, 1.5
    ps = traverse.sphere_spiral(2, steps, loops, r)
    phase = 2 * np.pi * loops * np.linspace(0, 1, steps)
    np.testing.assert_allclose(ps.z, r * np.column_stack([np.cos(phase), np.sin(phase)]), rtol=0, atol=1e-12)
    unwrapped = np.unwrap(np.arctan2(ps.z[:, 1], ps.z[:, 0]))
    np.testing.assert_allclose(unwrapped[-1] - unwrapped[0], 2 * np.pi * loops, rtol=1e-12)
    assert np.all(np.diff(unwrapped) > 0)


def test_sphere_spiral_needs_two_dims() -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        traverse.sphere_spiral(1, 10)
    one_line(excinfo, "dim >= 2", "1")


# --------------------------------------------------------------------------- choose_pairs


def test_choose_pairs_deterministic_for_a_seed() -> None:
    labels = np.repeat(np.arange(5), 6)
    for mode in ("random", "same_class", "cross_class"):
        a = pathset.choose_pairs(labels, "class", 12, mode, np.random.default_rng(9))
        b = pathset.choose_pairs(labels, "class", 12, mode, np.random.default_rng(9))
        c = pathset.choose_pairs(labels, "class", 12, mode, np.random.default_rng(10))
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
        assert a.shape == (12, 2) and a.dtype == np.int64


def _distinct_unordered(pairs: np.ndarray) -> bool:
    return len({frozenset(map(int, p)) for p in pairs}) == len(pairs) and bool(np.all(pairs[:, 0] != pairs[:, 1]))


@settings(max_examples=60, deadline=None)
@given(seed=SEEDS, m=st.integers(2, 60), n_classes=st.integers(1, 6), n=st.integers(1, 40))
def test_choose_pairs_modes(seed: int, m: int, n_classes: int, n: int) -> None:
    """Every mode gives distinct unordered pairs of its kind: n of them, or every one the rows offer if fewer."""
    labels = np.random.default_rng(seed).integers(0, n_classes, m)
    pairs = pathset.choose_pairs(labels, "class", n, "random", np.random.default_rng(seed))
    assert pairs.shape == (min(n, m * (m - 1) // 2), 2) and _distinct_unordered(pairs)
    assert np.all((pairs >= 0) & (pairs < m))

    classes, counts = np.unique(labels, return_counts=True)
    usable = [c for c in classes if (labels == c).sum() >= 2]
    if usable:
        same = pathset.choose_pairs(labels, "class", n, "same_class", np.random.default_rng(seed))
        offered = int((counts * (counts - 1) // 2).sum())
        assert offered == pathset.available_pairs(labels, "class", "same_class")
        assert len(same) == min(n, offered) and _distinct_unordered(same)
        np.testing.assert_array_equal(labels[same[:, 0]], labels[same[:, 1]])
        if n <= min((labels == c).sum() * ((labels == c).sum() - 1) // 2 for c in usable):  # no class runs out
            np.testing.assert_array_equal(labels[same[:, 0]], [usable[k % len(usable)] for k in range(n)])
    else:
        with pytest.raises(LatentwalkError) as excinfo:
            pathset.choose_pairs(labels, "class", n, "same_class", np.random.default_rng(seed))
        one_line(excinfo, "same_class")
    if len(classes) >= 2:
        cross = pathset.choose_pairs(labels, "class", n, "cross_class", np.random.default_rng(seed))
        offered = int((m * m - (counts * counts).sum()) // 2)
        assert len(cross) == min(n, offered) == min(n, pathset.available_pairs(labels, "class", "cross_class"))
        assert _distinct_unordered(cross) and np.all(labels[cross[:, 0]] != labels[cross[:, 1]])
    else:
        with pytest.raises(LatentwalkError) as excinfo:
            pathset.choose_pairs(labels, "class", n, "cross_class", np.random.default_rng(seed))
        one_line(excinfo, "cross_class", "single class")


def test_more_pairs_than_exist_gives_each_once() -> None:
    """18 test examples of 3 classes (6 each): 15 x 3 = 45 same-class pairs, however many are asked for."""
    labels = np.repeat(np.arange(3), 6)
    pairs = pathset.choose_pairs(labels, "class", 1000, "same_class", np.random.default_rng(0))
    assert len(pairs) == 45 == pathset.available_pairs(labels, "class", "same_class") and _distinct_unordered(pairs)
    assert pathset.available_pairs(labels, "class", "cross_class") == 108
    assert pathset.available_pairs(labels, "angle", "same_class") == 153


@pytest.mark.parametrize("mode", ["random", "same_class", "cross_class"])
def test_choose_pairs_angle_labels_are_random_pairs(mode: str) -> None:
    angles = np.random.default_rng(0).uniform(0, 2 * np.pi, 25)
    pairs = pathset.choose_pairs(angles, "angle", 10, mode, np.random.default_rng(4))
    np.testing.assert_array_equal(pairs, pathset.choose_pairs(angles, "angle", 10, "random", np.random.default_rng(4)))
    assert np.all(pairs[:, 0] != pairs[:, 1])
    # a single "class" of identical angles is no obstacle: there are no classes
    same = np.zeros(5)
    assert pathset.choose_pairs(same, "angle", 3, mode, np.random.default_rng(4)).shape == (3, 2)


@pytest.mark.parametrize("label_kind", ["class", "angle"])
def test_choose_pairs_errors(label_kind: str) -> None:
    labels = np.array([0, 1, 1, 0])
    with pytest.raises(LatentwalkError) as excinfo:
        pathset.choose_pairs(labels, label_kind, 3, "any", np.random.default_rng(0))
    one_line(excinfo, "paths.pairs.mode", "'any'", "'random'", "'same_class'", "'cross_class'")
    for m in (0, 1):
        with pytest.raises(LatentwalkError) as excinfo:
            pathset.choose_pairs(labels[:m], label_kind, 3, "random", np.random.default_rng(0))
        one_line(excinfo, "at least 2", str(m))


# --------------------------------------------------------------------------- PathSet / concat


def test_pathset_table_and_validation() -> None:
    z = np.array([[3.0, 4.0], [0.0, 1.0], [1.0, 1.0]])
    ps = pathset.PathSet(z, {"path_id": np.array([0, 0, 1]), "step": np.array([0, 1, 0])})
    assert ps.n_paths == 2
    table = ps.table()
    assert list(table.columns) == ["path_id", "step", "z_0", "z_1", "norm"]
    np.testing.assert_array_equal(table[["z_0", "z_1"]].to_numpy(), z)
    np.testing.assert_allclose(table["norm"].to_numpy(), [5.0, 1.0, np.sqrt(2)], rtol=1e-15)
    np.testing.assert_array_equal(ps.norm, table["norm"].to_numpy())
    with pytest.raises(LatentwalkError) as excinfo:
        pathset.PathSet(z, {"path_id": np.array([0, 0])})
    one_line(excinfo, "'path_id'", "2", "3")
    with pytest.raises(LatentwalkError) as excinfo:
        pathset.PathSet(np.zeros(3))
    one_line(excinfo, "2-D")
    assert pathset.PathSet(np.zeros((2, 2))).n_paths == 1


@FAST
@given(d=DIMS, steps=STEPS)
def test_table_has_every_coordinate(d: int, steps: int) -> None:
    table = traverse.sphere_spiral(d, steps).table()
    z_cols = [f"z_{i}" for i in range(d)]
    assert [c for c in table.columns if c.startswith("z_")] == z_cols
    assert table.columns[-1] == "norm"
    np.testing.assert_allclose(table["norm"], np.linalg.norm(table[z_cols].to_numpy(), axis=1), rtol=1e-13)


def test_concat_renumbers_path_ids_and_fills_missing_columns() -> None:
    a = interpolate.lerp(np.zeros((2, 3)), np.ones((2, 3)), 4)  # ids 0, 1
    b = traverse.traverse_axis(np.zeros(3), [0, 1, 2], 1.0, 4)  # ids 0, 1, 2
    c = pathset.concat([a, b, a])
    np.testing.assert_array_equal(c.columns["path_id"], np.repeat(np.arange(7), 4))
    assert c.n_paths == 7
    np.testing.assert_array_equal(c.z, np.concatenate([a.z, b.z, a.z]))
    np.testing.assert_array_equal(c.columns["step"], np.tile(np.arange(4), 7))
    assert list(c.columns)[:3] == ["path_id", "step", "t"]
    assert np.isnan(c.columns["t"][8:20]).all() and not np.isnan(c.columns["t"][:8]).any()
    assert np.isnan(c.columns["dim"][:8]).all()
    np.testing.assert_array_equal(c.columns["dim"][8:20], np.repeat([0, 1, 2], 4))
    with pytest.raises(LatentwalkError) as excinfo:
        pathset.concat([])
    one_line(excinfo, "no paths")


def test_concat_renumbers_arbitrary_ids_from_zero() -> None:
    part = pathset.PathSet(np.zeros((4, 2)), {"path_id": np.array([3, 3, 7, 7]), "step": np.array([0, 1, 0, 1])})
    c = pathset.concat([part, part])
    np.testing.assert_array_equal(c.columns["path_id"], [0, 0, 1, 1, 2, 2, 3, 3])
