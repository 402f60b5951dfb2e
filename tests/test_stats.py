"""Tests for latentwalk.measure.norms (norm concentration, hypersphere geometry, path and encoded norms)
and the statistics rules (hypersphere, norm_concentration, train_classifier).

References are independent of the package: closed forms in mpmath at 40 digits, scipy.stats laws,
and hand-built tables whose answers are worked out in the comments.
"""

from __future__ import annotations

import json
import math
import tracemalloc
import warnings

import mpmath
import numpy as np
import pandas as pd
import pytest
from _helpers import one_line
from scipy import special, stats

from latentwalk.core.io import LatentwalkError
from latentwalk.data.dataset import Dataset, save_dataset
from latentwalk.data.prepare import load_digits, make_lines
from latentwalk.measure import classifier as classifier_stage
from latentwalk.measure import norms as geometry_stage
from latentwalk.measure.norms import (
    QUANTILES,
    SHELL,
    active_dims,
    chi_mean,
    concentration_table,
    encoded_norm_summary,
    hypersphere_table,
    norm_histograms,
    path_norm_summary,
    path_norm_table,
    sample_norms,
    shell_bounds,
)
from latentwalk.measure.quality import classifier_probabilities

SEED = 20171203
PI = math.pi

HYPERSPHERE_COLUMNS = [
    "n", "volume", "log_volume", "surface", "log_surface", "ball_to_cube", "gauss_mass_r1", "gauss_mass_sqrt_n",
]
QUANTILE_COLUMNS = [c for q in QUANTILES for c in (f"q{q * 100:g}", f"chi_q{q * 100:g}")]
CONCENTRATION_COLUMNS = (
    ["dim", "n", "mean", "std", "chi_mean", "chi_std", "sqrt_d", "mean_rel_error", "std_rel_error"]
    + QUANTILE_COLUMNS
    + ["ks_distance", "ks_pvalue", "inside_unit_ball", "chi2_cdf_at_1", "relative_width", "chi_relative_width"]
)
HIST_COLUMNS = ["dim", "bin_left", "bin_right", "count", "density", "chi_pdf"]


def _mp_chi_mean(d: int) -> float:
    with mpmath.workdps(40):
        return float(mpmath.sqrt(2) * mpmath.gamma(mpmath.mpf(d + 1) / 2) / mpmath.gamma(mpmath.mpf(d) / 2))


def _mp_volume(n: int) -> float:
    with mpmath.workdps(40):
        return float(mpmath.pi ** (mpmath.mpf(n) / 2) / mpmath.gamma(mpmath.mpf(n) / 2 + 1))


def _mp_surface(n: int) -> float:
    with mpmath.workdps(40):
        return float(2 * mpmath.pi ** (mpmath.mpf(n) / 2) / mpmath.gamma(mpmath.mpf(n) / 2))


def _rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(np.asarray(a, dtype=np.float64) / np.asarray(b, dtype=np.float64) - 1.0)


# --------------------------------------------------------------------------- hypersphere


@pytest.fixture(scope="module")
def sphere200() -> pd.DataFrame:
    return hypersphere_table(200)


def test_hypersphere_columns_and_n(sphere200: pd.DataFrame) -> None:
    assert list(sphere200.columns) == HYPERSPHERE_COLUMNS
    assert sphere200["n"].tolist() == list(range(1, 201))
    assert sphere200["n"].dtype == np.int64


def test_hypersphere_small_n_exact(sphere200: pd.DataFrame) -> None:
    t = sphere200.set_index("n")
    assert t.loc[1, "volume"] == pytest.approx(2.0, rel=1e-12)
    assert t.loc[2, "volume"] == pytest.approx(PI, rel=1e-12)
    assert t.loc[3, "volume"] == pytest.approx(4 * PI / 3, rel=1e-12)
    assert t.loc[4, "volume"] == pytest.approx(PI**2 / 2, rel=1e-12)
    # surfaces of the unit (n-1)-spheres: S_0 = 2 points, S_1 = 2 pi, S_2 = 4 pi
    assert t.loc[1, "surface"] == pytest.approx(2.0, rel=1e-12)
    assert t.loc[2, "surface"] == pytest.approx(2 * PI, rel=1e-12)
    assert t.loc[3, "surface"] == pytest.approx(4 * PI, rel=1e-12)
    # ball-to-cube [-1, 1]^n: 1, pi/4, pi/6
    assert t.loc[1, "ball_to_cube"] == pytest.approx(1.0, rel=1e-12)
    assert t.loc[2, "ball_to_cube"] == pytest.approx(PI / 4, rel=1e-12)
    assert t.loc[3, "ball_to_cube"] == pytest.approx(PI / 6, rel=1e-12)


def test_hypersphere_volume_peaks_at_five(sphere200: pd.DataFrame) -> None:
    top = sphere200.loc[sphere200["volume"].idxmax()]
    assert int(top["n"]) == 5
    assert top["volume"] == pytest.approx(8 * PI**2 / 15, rel=1e-12)
    assert round(float(top["volume"]), 4) == 5.2638
    v = sphere200["volume"].to_numpy()
    assert np.all(np.diff(v[:5]) > 0)  # increasing up to n = 5
    assert np.all(np.diff(v[4:]) < 0)  # then strictly decreasing (no underflow yet at n <= 200)
    # the surface S_{n-1} peaks at n = 7 (S_6 = 16 pi^3 / 15)
    top_s = sphere200.loc[sphere200["surface"].idxmax()]
    assert int(top_s["n"]) == 7
    assert top_s["surface"] == pytest.approx(16 * PI**3 / 15, rel=1e-12)


def test_hypersphere_matches_closed_forms_mpmath(sphere200: pd.DataFrame) -> None:
    n = sphere200["n"].to_numpy()
    volume = np.array([_mp_volume(int(k)) for k in n])
    surface = np.array([_mp_surface(int(k)) for k in n])
    assert _rel(sphere200["volume"], volume).max() < 1e-12
    assert _rel(sphere200["surface"], surface).max() < 1e-12
    assert _rel(np.exp(sphere200["log_volume"]), volume).max() < 1e-12
    assert np.allclose(sphere200["log_surface"], np.log(surface), rtol=0, atol=1e-12)
    assert np.allclose(sphere200["log_volume"], np.log(volume), rtol=0, atol=1e-12)


def test_hypersphere_matches_scipy_gamma_where_finite(sphere200: pd.DataFrame) -> None:
    n = sphere200["n"].to_numpy()[:150].astype(np.float64)
    volume = PI ** (n / 2) / special.gamma(n / 2 + 1)
    surface = 2 * PI ** (n / 2) / special.gamma(n / 2)
    assert _rel(sphere200["volume"].to_numpy()[:150], volume).max() < 1e-12
    assert _rel(sphere200["surface"].to_numpy()[:150], surface).max() < 1e-12


def test_hypersphere_surface_is_n_times_volume(sphere200: pd.DataFrame) -> None:
    n = sphere200["n"].to_numpy()
    assert _rel(sphere200["surface"], n * sphere200["volume"]).max() < 1e-12


def test_hypersphere_ball_to_cube(sphere200: pd.DataFrame) -> None:
    n = sphere200["n"].to_numpy()
    ratio = sphere200["volume"].to_numpy() / 2.0 ** n
    assert _rel(sphere200["ball_to_cube"], ratio).max() < 1e-12
    assert np.all(np.diff(sphere200["ball_to_cube"]) < 0)


def test_hypersphere_gauss_masses(sphere200: pd.DataFrame) -> None:
    n = sphere200["n"].to_numpy()
    np.testing.assert_allclose(sphere200["gauss_mass_r1"], stats.chi2.cdf(1.0, n), rtol=1e-12, atol=0)
    np.testing.assert_allclose(sphere200["gauss_mass_sqrt_n"], stats.chi2.cdf(n, n), rtol=1e-12, atol=0)
    t = sphere200.set_index("n")
    # independent closed forms: n = 1: erf(1/sqrt 2); n = 2: 1 - exp(-r^2/2)
    assert t.loc[1, "gauss_mass_r1"] == pytest.approx(math.erf(1 / math.sqrt(2)), rel=1e-12)
    assert t.loc[2, "gauss_mass_r1"] == pytest.approx(1 - math.exp(-0.5), rel=1e-12)
    assert t.loc[1, "gauss_mass_sqrt_n"] == pytest.approx(math.erf(1 / math.sqrt(2)), rel=1e-12)
    assert t.loc[2, "gauss_mass_sqrt_n"] == pytest.approx(1 - math.exp(-1.0), rel=1e-12)
    with mpmath.workdps(30):
        for k in (5, 17, 100, 200):
            ref = float(mpmath.gammainc(mpmath.mpf(k) / 2, 0, mpmath.mpf(1) / 2, regularized=True))
            assert t.loc[k, "gauss_mass_r1"] == pytest.approx(ref, rel=1e-10)
            ref = float(mpmath.gammainc(mpmath.mpf(k) / 2, 0, mpmath.mpf(k) / 2, regularized=True))
            assert t.loc[k, "gauss_mass_sqrt_n"] == pytest.approx(ref, rel=1e-10)
    # P(|z| <= 1) collapses with n; P(|z| <= sqrt n) tends to 1/2 from above
    assert np.all(np.diff(sphere200["gauss_mass_r1"]) < 0)
    assert np.all(sphere200["gauss_mass_sqrt_n"].to_numpy()[1:] > 0.5)


def test_hypersphere_large_n_no_overflow() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow / invalid-value warnings either
        table = hypersphere_table(5000)
    assert len(table) == 5000
    assert not table.isna().any().any()
    for column in HYPERSPHERE_COLUMNS:
        assert np.all(np.isfinite(table[column])), column
    # the logs keep going down where the volume itself has underflowed to 0
    assert np.all(np.diff(table["log_volume"].to_numpy()[4:]) < 0)
    assert np.all(np.diff(table["log_surface"].to_numpy()[6:]) < 0)
    last = table.iloc[-1]
    assert last["volume"] == 0.0 and last["surface"] == 0.0 and last["ball_to_cube"] == 0.0
    assert (table["volume"] >= 0).all() and (table["surface"] >= 0).all()
    with mpmath.workdps(30):
        ref = float(mpmath.log(mpmath.pi ** 2500 / mpmath.gamma(2501)))
    assert last["log_volume"] == pytest.approx(ref, rel=1e-12)
    assert last["log_surface"] == pytest.approx(ref + math.log(5000), rel=1e-12)
    assert last["gauss_mass_sqrt_n"] == pytest.approx(stats.chi2.cdf(5000, 5000), rel=1e-12)


@pytest.mark.parametrize("n_max", [0, -3])
def test_hypersphere_rejects_n_max_below_one(n_max: int) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        hypersphere_table(n_max)
    one_line(excinfo, "n_max", str(n_max))


# --------------------------------------------------------------------------- chi mean


def test_chi_mean_small_d_exact() -> None:
    assert float(chi_mean(1)) == pytest.approx(math.sqrt(2 / PI), rel=1e-14)
    assert float(chi_mean(2)) == pytest.approx(math.sqrt(PI / 2), rel=1e-14)
    assert float(chi_mean(3)) == pytest.approx(2 * math.sqrt(2 / PI), rel=1e-14)


def test_chi_mean_vectorised_and_below_sqrt_d() -> None:
    d = np.arange(1, 2001)
    got = chi_mean(d)
    assert got.shape == d.shape
    assert np.all(got < np.sqrt(d))  # Jensen: E|z| < sqrt(E|z|^2)
    assert np.all(np.sqrt(d) - got < 1 / np.sqrt(8 * d) * 1.01)  # sqrt d - E|z| ~ 1/(2 sqrt(2d))
    np.testing.assert_array_equal(got[[0, 9, 999]], [float(chi_mean(1)), float(chi_mean(10)), float(chi_mean(1000))])


@pytest.fixture(scope="module")
def chi_mean_reference() -> np.ndarray:
    return np.array([_mp_chi_mean(d) for d in range(1, 2001)])


def test_chi_mean_matches_mpmath_to_1e14(chi_mean_reference: np.ndarray) -> None:
    """Against 50-digit arithmetic over the whole range (scipy's chi(d) mean is off by 2e-12 at d = 2000)."""
    assert _rel(chi_mean(np.arange(1, 2001)), chi_mean_reference).max() < 1e-14


# --------------------------------------------------------------------------- sampling


def test_sample_norms_chunking_never_changes_values() -> None:
    d, n = 7, 1001
    whole = sample_norms(d, n, SEED, chunk_elements=1 << 30)
    for chunk in (1, d, 3 * d + 1, 100 * d, 5000):
        np.testing.assert_array_equal(sample_norms(d, n, SEED, chunk_elements=chunk), whole)
    assert whole.shape == (n,) and whole.dtype == np.float64
    # the stream is N(0, I_d) seeded by (seed, d)
    z = np.random.default_rng([SEED, d]).standard_normal((n, d))
    np.testing.assert_allclose(whole, np.linalg.norm(z, axis=1), rtol=1e-14)


def test_sample_norms_seeded_by_seed_and_dim() -> None:
    a = sample_norms(5, 200, 1)
    np.testing.assert_array_equal(a, sample_norms(5, 200, 1))
    assert not np.array_equal(a, sample_norms(5, 200, 2))
    # d = 1 gives |x| for a scalar normal from the (seed, 1) stream
    np.testing.assert_array_equal(sample_norms(1, 50, 3), np.abs(np.random.default_rng([3, 1]).standard_normal((50, 1))[:, 0]))


@pytest.mark.parametrize(("d", "n"), [(0, 10), (-1, 10), (3, 0)])
def test_sample_norms_rejects_bad_sizes(d: int, n: int) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        sample_norms(d, n, 0)
    one_line(excinfo, f"d={d}", f"N={n}")


def test_sample_norms_memory_is_bounded_by_chunk() -> None:
    d, n = 1000, 200_000  # N * d * 8 bytes = 1.6 GB if it were materialised
    tracemalloc.start()
    try:
        norms = sample_norms(d, n, SEED, chunk_elements=2**20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 60e6, peak  # one 8 MB chunk plus the 1.6 MB of norms, not 1.6 GB
    assert norms.shape == (n,)
    assert abs(norms.mean() / float(chi_mean(d)) - 1) < 1e-3


@pytest.fixture(scope="module")
def concentration() -> tuple[pd.DataFrame, dict[int, np.ndarray]]:
    return concentration_table([1, 10, 100, 1000], 100_000, SEED)


def test_norm_concentration_columns(concentration: tuple[pd.DataFrame, dict[int, np.ndarray]]) -> None:
    table, samples = concentration
    assert list(table.columns) == CONCENTRATION_COLUMNS
    assert table["dim"].tolist() == [1, 10, 100, 1000]
    assert (table["n"] == 100_000).all()
    assert sorted(samples) == [1, 10, 100, 1000]
    for d, norms in samples.items():
        np.testing.assert_array_equal(norms, sample_norms(d, 100_000, SEED))


def test_norm_concentration_exact_columns(concentration: tuple[pd.DataFrame, dict[int, np.ndarray]]) -> None:
    table, samples = concentration
    for row in table.itertuples(index=False):
        d = row.dim
        law = stats.chi(d)
        assert row.chi_mean == pytest.approx(_mp_chi_mean(d), rel=1e-12)
        assert row.chi_std == pytest.approx(law.std(), rel=1e-8)
        assert row.sqrt_d == pytest.approx(math.sqrt(d), rel=1e-15)
        assert row.chi2_cdf_at_1 == pytest.approx(stats.chi2.cdf(1.0, d), rel=1e-12, abs=1e-300)
        assert row.chi_relative_width == pytest.approx(law.std() / law.mean(), rel=1e-8)
        norms = samples[d]
        assert row.mean == pytest.approx(norms.mean(), rel=1e-14)
        assert row.std == pytest.approx(norms.std(ddof=1), rel=1e-14)
        assert row.mean_rel_error == pytest.approx(norms.mean() / row.chi_mean - 1, rel=1e-9, abs=1e-15)
        assert row.std_rel_error == pytest.approx(row.std / row.chi_std - 1, rel=1e-9, abs=1e-15)
        assert row.relative_width == pytest.approx(row.std / row.mean, rel=1e-14)
        assert row.inside_unit_ball == np.mean(norms <= 1.0)
        sample_q = np.quantile(norms, QUANTILES)
        exact_q = law.ppf(QUANTILES)
        as_dict = row._asdict()
        # itertuples renames columns that are not identifiers (q0.5 ...): read them by position
        values = dict(zip(CONCENTRATION_COLUMNS, as_dict.values()))
        for q, sq, eq in zip(QUANTILES, sample_q, exact_q):
            assert values[f"q{q * 100:g}"] == pytest.approx(sq, rel=1e-14)
            assert values[f"chi_q{q * 100:g}"] == pytest.approx(eq, rel=1e-12)
        ks = stats.kstest(norms, law.cdf)
        assert row.ks_distance == pytest.approx(ks.statistic, rel=1e-12)
        assert row.ks_pvalue == pytest.approx(ks.pvalue, rel=1e-9)


def test_sampled_means_close_to_exact(concentration: tuple[pd.DataFrame, dict[int, np.ndarray]]) -> None:
    table, _ = concentration
    assert (table["mean_rel_error"].abs() < 0.005).all(), table[["dim", "mean_rel_error"]]
    assert (table["std_rel_error"].abs() < 0.02).all(), table[["dim", "std_rel_error"]]


def test_ks_distance_small_for_true_law(concentration: tuple[pd.DataFrame, dict[int, np.ndarray]]) -> None:
    table, _ = concentration
    assert (table["ks_distance"] < 0.01).all(), table[["dim", "ks_distance"]]
    assert (table["ks_pvalue"] > 1e-4).all()


def test_ks_distance_large_for_wrong_law() -> None:
    # norms of N(0, I_10) judged against chi(d) with the wrong d: the KS distance is large
    _, samples = concentration_table([10], 5000, SEED)
    assert stats.kstest(samples[10], stats.chi(12).cdf).statistic > 0.1


def test_inside_unit_ball_matches_chi2_cdf(concentration: tuple[pd.DataFrame, dict[int, np.ndarray]]) -> None:
    table, _ = concentration
    for row in table.itertuples():
        p = row.chi2_cdf_at_1
        se = math.sqrt(p * (1 - p) / row.n)
        assert abs(row.inside_unit_ball - p) <= 4 * se + 1.0 / row.n, (row.dim, row.inside_unit_ball, p)
    assert table.set_index("dim").loc[1, "inside_unit_ball"] == pytest.approx(0.6827, abs=0.006)
    assert table.set_index("dim").loc[1000, "inside_unit_ball"] == 0.0


def test_relative_width_shrinks_and_tracks_chi(concentration: tuple[pd.DataFrame, dict[int, np.ndarray]]) -> None:
    table, _ = concentration
    assert np.all(np.diff(table["relative_width"]) < 0)
    assert np.all(np.diff(table["chi_relative_width"]) < 0)
    np.testing.assert_allclose(table["relative_width"], table["chi_relative_width"], rtol=0.015)
    # chi(d) relative width ~ 1 / sqrt(2d) for large d
    big = table.set_index("dim").loc[1000, "chi_relative_width"]
    assert big == pytest.approx(1 / math.sqrt(2000), rel=0.01)


def test_norm_concentration_chunking_gives_identical_tables() -> None:
    dims = [1, 5, 50]
    small, small_samples = concentration_table(dims, 3000, SEED, chunk_elements=7)
    large, large_samples = concentration_table(dims, 3000, SEED, chunk_elements=1 << 30)
    pd.testing.assert_frame_equal(small, large, check_exact=True)
    for d in dims:
        np.testing.assert_array_equal(small_samples[d], large_samples[d])


def test_norm_histograms(concentration: tuple[pd.DataFrame, dict[int, np.ndarray]]) -> None:
    _, samples = concentration
    hist = norm_histograms(samples, bins=40)
    assert list(hist.columns) == HIST_COLUMNS
    assert len(hist) == 4 * 40
    for d, group in hist.groupby("dim"):
        norms = samples[d]
        width = (group["bin_right"] - group["bin_left"]).to_numpy()
        assert np.all(width > 0)
        np.testing.assert_allclose(width, width[0], rtol=1e-9)  # equal-width bins
        np.testing.assert_array_equal(group["bin_left"].to_numpy()[1:], group["bin_right"].to_numpy()[:-1])
        assert float((group["density"] * width).sum()) == pytest.approx(1.0, rel=1e-12)
        assert int(group["count"].sum()) == len(norms)  # every sample falls in a bin
        law = stats.chi(d)
        assert group["bin_left"].iloc[0] <= min(norms.min(), law.ppf(1e-4))
        assert group["bin_right"].iloc[-1] >= max(norms.max(), law.ppf(1 - 1e-4))
        centres = 0.5 * (group["bin_left"] + group["bin_right"]).to_numpy()
        np.testing.assert_allclose(group["chi_pdf"], law.pdf(centres), rtol=1e-12)
        # the histogram is close to the density (L1 distance over the bins)
        l1 = float((np.abs(group["density"] - group["chi_pdf"]) * width).sum())
        assert l1 < 0.05, (d, l1)


# --------------------------------------------------------------------------- path norms


@pytest.mark.parametrize("d", [1, 2, 4, 10, 512])
def test_shell_bounds_are_chi_quantiles(d: int) -> None:
    lo, hi = shell_bounds(d)
    assert SHELL == (0.005, 0.995)
    assert lo == pytest.approx(stats.chi(d).ppf(0.005), rel=1e-12)
    assert hi == pytest.approx(stats.chi(d).ppf(0.995), rel=1e-12)
    assert stats.chi(d).cdf(hi) - stats.chi(d).cdf(lo) == pytest.approx(0.99, rel=1e-9)
    lo2, hi2 = shell_bounds(d, (0.25, 0.75))
    assert lo < lo2 < hi2 < hi
    assert isinstance(lo, float) and isinstance(hi, float)


D = 4
LO, HI = shell_bounds(D)  # about 0.455 and 3.855

# (method, variant, path_id, norms by step); LO and HI themselves count as inside the shell.
HAND_PATHS = [
    ("lerp", None, 0, [2, 1, 0.25, 1, 2]),  # odd: mid 0.25, ends 2 -> 0.125; one below
    ("lerp", None, 1, [3, 2, 1, 2, 1]),  # odd: mid 1, ends 2 -> 0.5
    ("slerp", None, 0, [2, 3, 1, 4]),  # even: mid (3+1)/2 = 2, ends 3 -> 2/3; one above
    ("slerp", None, 1, [1, 8, 0.25, 0.75, 8, 3]),  # even: mid 0.5, ends 2 -> 0.25; one below, two above
    ("prior_pairs", "lerp", 0, [2, 1, 2]),  # -> 0.5
    ("prior_pairs", "slerp", 1, [2, 2]),  # two steps: mid = mean of both = 2 -> 1.0
    ("prior_pairs", "lerp", 2, [1, 0.5, 1.5, 3]),  # mid 1, ends 2 -> 0.5
    ("geodesic", "slerp", 0, [2, 2, 2]),  # a variant on a non-prior method: walk stays 'geodesic'
    ("geodesic", None, 1, [LO, 2, HI]),  # the shell edges are inside; ratio 2 / ((LO + HI) / 2)
]

EXPECTED_SUMMARY = {
    # (method, walk): paths, points, outside, below, above, midpoint_ratio
    ("lerp", "lerp"): (2, 10, 1 / 10, 1 / 10, 0.0, (0.125 + 0.5) / 2),
    ("slerp", "slerp"): (2, 10, 4 / 10, 1 / 10, 3 / 10, (2 / 3 + 0.25) / 2),
    ("prior_pairs", "lerp"): (2, 7, 0.0, 0.0, 0.0, 0.5),
    ("prior_pairs", "slerp"): (1, 2, 0.0, 0.0, 0.0, 1.0),
    ("geodesic", "geodesic"): (2, 6, 0.0, 0.0, 0.0, (1.0 + 4.0 / (LO + HI)) / 2),
}


def _hand_paths(shuffle: bool = True) -> pd.DataFrame:
    rows = []
    for method, variant, path_id, norms in HAND_PATHS:
        s = len(norms)
        for step, norm in enumerate(norms):
            rows.append(
                {
                    "method": method,
                    "path_id": path_id,
                    "step": step,
                    "t": step / (s - 1),
                    "norm": float(norm),
                    "variant": variant,
                    "pair": path_id if method == "prior_pairs" else np.nan,
                    "z_0": 123.0,  # latent coordinates are not carried into the norm table
                }
            )
    table = pd.DataFrame(rows)
    if shuffle:
        table = table.iloc[np.random.default_rng(0).permutation(len(table))].reset_index(drop=True)
    return table


def test_path_norm_table_columns_and_walk() -> None:
    paths = _hand_paths()
    table = path_norm_table(paths, D)
    assert list(table.columns) == [
        "method", "walk", "variant", "path_id", "pair", "step", "t", "norm",
        "shell_lo", "shell_hi", "inside_shell", "norm_over_sqrt_d",
    ]
    assert len(table) == len(paths)
    np.testing.assert_array_equal(table["norm"], paths["norm"])  # row order kept
    expected_walk = np.where(paths["method"] == "prior_pairs", paths["variant"], paths["method"])
    assert table["walk"].tolist() == list(expected_walk)
    assert set(table.loc[table["method"] == "geodesic", "walk"]) == {"geodesic"}
    assert set(table.loc[table["method"] == "prior_pairs", "walk"]) == {"lerp", "slerp"}
    assert (table["shell_lo"] == LO).all() and (table["shell_hi"] == HI).all()
    inside = (paths["norm"] >= LO) & (paths["norm"] <= HI)
    assert table["inside_shell"].tolist() == inside.tolist()
    edge = table[(table["norm"] == LO) | (table["norm"] == HI)]
    assert len(edge) == 2 and edge["inside_shell"].all()
    np.testing.assert_allclose(table["norm_over_sqrt_d"], paths["norm"] / 2.0, rtol=1e-15)


def test_path_norm_table_without_variant_column() -> None:
    paths = _hand_paths().drop(columns=["variant", "pair"])
    table = path_norm_table(paths, D)
    assert "variant" not in table.columns
    assert table["walk"].tolist() == paths["method"].tolist()


def test_path_norm_summary_on_hand_table() -> None:
    summary = path_norm_summary(path_norm_table(_hand_paths(), D))
    assert list(summary.columns) == [
        "method", "walk", "paths", "points", "share_outside_shell", "share_below_shell", "share_above_shell",
        "mean_norm", "min_norm", "max_norm", "midpoint_ratio", "shell_lo", "shell_hi",
    ]
    assert len(summary) == len(EXPECTED_SUMMARY)
    got = summary.set_index(["method", "walk"])
    norms_by_key: dict[tuple[str, str], list[float]] = {}
    for method, variant, _, norms in HAND_PATHS:
        walk = variant if method == "prior_pairs" else method
        norms_by_key.setdefault((method, walk), []).extend(norms)
    for key, (paths, points, outside, below, above, ratio) in EXPECTED_SUMMARY.items():
        row = got.loc[key]
        assert row["paths"] == paths and row["points"] == points, key
        assert row["share_outside_shell"] == pytest.approx(outside, abs=1e-15), key
        assert row["share_below_shell"] == pytest.approx(below, abs=1e-15), key
        assert row["share_above_shell"] == pytest.approx(above, abs=1e-15), key
        assert row["midpoint_ratio"] == pytest.approx(ratio, rel=1e-14), key
        values = norms_by_key[key]
        assert row["mean_norm"] == pytest.approx(np.mean(values), rel=1e-14)
        assert row["min_norm"] == min(values) and row["max_norm"] == max(values)
        assert row["shell_lo"] == LO and row["shell_hi"] == HI


def test_path_norm_summary_independent_of_row_order() -> None:
    a = path_norm_summary(path_norm_table(_hand_paths(shuffle=True), D)).set_index(["method", "walk"]).sort_index()
    b = path_norm_summary(path_norm_table(_hand_paths(shuffle=False), D)).set_index(["method", "walk"]).sort_index()
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-14)


def test_lerp_midpoint_ratio_about_one_over_sqrt2() -> None:
    """SPEC 6: lerp between independent prior samples dips to ~1/sqrt(2) of the endpoint norm at the midpoint."""
    rng = np.random.default_rng(SEED)
    d, pairs, steps = 256, 200, 11
    a, b = rng.standard_normal((2, pairs, d))
    t = np.linspace(0, 1, steps)
    z = (1 - t)[None, :, None] * a[:, None, :] + t[None, :, None] * b[:, None, :]
    paths = pd.DataFrame(
        {
            "method": "lerp",
            "path_id": np.repeat(np.arange(pairs), steps),
            "step": np.tile(np.arange(steps), pairs),
            "t": np.tile(t, pairs),
            "norm": np.linalg.norm(z, axis=2).reshape(-1),
        }
    )
    summary = path_norm_summary(path_norm_table(paths, d)).iloc[0]
    assert summary["midpoint_ratio"] == pytest.approx(1 / math.sqrt(2), rel=0.01)
    assert summary["share_below_shell"] > 0.3  # the middle of lerp leaves the shell inwards
    assert summary["share_above_shell"] < 0.01  # only endpoints (prior samples) can sit above the shell


def test_encoded_norm_summary_on_hand_data() -> None:
    norms = np.array([0.25, 1.0, 2.0, 2.0, 3.0, 8.0, 4.0])
    split = np.array(["train", "train", "test", "train", "train", "train", "test"])
    table = encoded_norm_summary(norms, split, D)
    assert table["split"].tolist() == ["train", "test", "all"]
    assert list(table.columns) == [
        "split", "n", "mean", "std", "chi_mean", "shell_lo", "shell_hi", "share_inside_shell",
        "share_below_shell", "share_above_shell", "ks_distance_to_chi",
    ] + [f"q{q * 100:g}" for q in QUANTILES]
    rows = table.set_index("split")
    # train: 0.25 1 2 3 8 -> inside 3, below 1, above 1; test: 2 4 -> inside 1, above 1; all: 7 norms
    expected = {
        "train": (np.array([0.25, 1.0, 2.0, 3.0, 8.0]), 3 / 5, 1 / 5, 1 / 5),
        "test": (np.array([2.0, 4.0]), 1 / 2, 0.0, 1 / 2),
        "all": (norms, 4 / 7, 1 / 7, 2 / 7),
    }
    for name, (sel, inside, below, above) in expected.items():
        row = rows.loc[name]
        assert row["n"] == len(sel)
        assert row["mean"] == pytest.approx(sel.mean(), rel=1e-15)
        assert row["std"] == pytest.approx(sel.std(), rel=1e-14)  # population std (ddof 0)
        assert row["chi_mean"] == pytest.approx(_mp_chi_mean(D), rel=1e-12)
        assert row["shell_lo"] == LO and row["shell_hi"] == HI
        assert row["share_inside_shell"] == pytest.approx(inside, abs=1e-15)
        assert row["share_below_shell"] == pytest.approx(below, abs=1e-15)
        assert row["share_above_shell"] == pytest.approx(above, abs=1e-15)
        assert row["ks_distance_to_chi"] == pytest.approx(stats.kstest(sel, stats.chi(D).cdf).statistic, rel=1e-12)
        for q in QUANTILES:
            assert row[f"q{q * 100:g}"] == pytest.approx(np.quantile(sel, q), rel=1e-14)
    # linear-interpolation quantiles worked by hand
    assert rows.loc["train", "q50"] == 2.0
    assert rows.loc["train", "q25"] == 1.0 and rows.loc["train", "q75"] == 3.0
    assert rows.loc["test", "q50"] == 3.0
    assert rows.loc["all", "q50"] == 2.0


def test_encoded_norm_summary_skips_empty_split() -> None:
    table = encoded_norm_summary(np.array([1.0, 2.0]), np.array(["train", "train"]), D)
    assert table["split"].tolist() == ["train", "all"]
    assert table.iloc[0].drop("split").equals(table.iloc[1].drop("split"))


# --------------------------------------------------------------------------- stages


def _log() -> tuple[list[str], object]:
    lines: list[str] = []
    return lines, lines.append


def test_stage_hypersphere_writes_csv(tmp_path) -> None:
    out = tmp_path / "sub" / "hypersphere.csv"
    lines, log = _log()
    geometry_stage.hypersphere(60, out, log=log)
    table = pd.read_csv(out)
    assert list(table.columns) == HYPERSPHERE_COLUMNS
    assert table["n"].tolist() == list(range(1, 61))
    ref = hypersphere_table(60)
    for column in HYPERSPHERE_COLUMNS[1:]:
        np.testing.assert_allclose(table[column], ref[column], rtol=1e-9, atol=0)
    assert any("V_5 = 5.26" in line for line in lines), lines
    assert [p.name for p in out.parent.iterdir()] == ["hypersphere.csv"]  # no temporary file left behind


def test_stage_norm_concentration_writes_csvs(tmp_path) -> None:
    out_csv, out_hist = tmp_path / "norms.csv", tmp_path / "hist.csv"
    lines, log = _log()
    geometry_stage.norm_concentration([1, 3, 20], 2000, SEED, 64, 25, out_csv, out_hist, log=log)
    table = pd.read_csv(out_csv)
    hist = pd.read_csv(out_hist)
    assert list(table.columns) == CONCENTRATION_COLUMNS
    assert list(hist.columns) == HIST_COLUMNS
    assert table["dim"].tolist() == [1, 3, 20]
    assert (table["n"] == 2000).all()
    assert len(hist) == 3 * 25 and sorted(hist["dim"].unique()) == [1, 3, 20]
    assert (hist.groupby("dim")["count"].sum() == 2000).all()
    ref, _ = concentration_table([1, 3, 20], 2000, SEED, chunk_elements=1 << 20)
    np.testing.assert_allclose(table["mean"], ref["mean"], rtol=1e-9)
    np.testing.assert_allclose(table["chi_mean"], ref["chi_mean"], rtol=1e-9)
    assert len(lines) == 4 and lines[-1].startswith("3 dims x 2000 samples")


@pytest.fixture(scope="module")
def small_digits(tmp_path_factory) -> tuple[object, Dataset]:
    full = load_digits(0.2, SEED)
    # a different generator from the split's (same seed would pick exactly the test items first)
    keep = np.sort(np.random.default_rng(SEED + 1).permutation(len(full.labels))[:500])
    ds = Dataset(images=full.images[keep], labels=full.labels[keep], split=full.split[keep], label_kind="class")
    path = tmp_path_factory.mktemp("digits") / "digits.npz"
    save_dataset(ds, path)
    return path, ds


def test_stage_train_classifier_writes_weights_and_json(tmp_path, small_digits) -> None:
    data_npz, ds = small_digits
    out_npz, out_json = tmp_path / "clf.npz", tmp_path / "clf.json"
    lines, log = _log()
    classifier_stage.train_classifier(data_npz, SEED, 32, 100, out_npz, out_json, log=log)
    with np.load(out_npz, allow_pickle=False) as handle:
        weights = {k: handle[k] for k in handle.files}
    assert sorted(weights) == ["b1", "b2", "classes", "w1", "w2"]
    assert weights["w1"].shape == (64, 32) and weights["b1"].shape == (32,)
    assert weights["w2"].shape == (32, 10) and weights["b2"].shape == (10,)
    np.testing.assert_array_equal(weights["classes"], np.arange(10))
    record = json.loads(out_json.read_text())
    test = ds.split == "test"
    p = classifier_probabilities(weights, ds.images[test])
    accuracy = float(np.mean(weights["classes"][p.argmax(axis=1)] == ds.labels[test]))
    assert record["test_accuracy"] == pytest.approx(accuracy, abs=1e-12)
    assert 0.8 <= record["test_accuracy"] <= 1.0  # 32 hidden units, 100 epochs, 405 training images (0.89 measured)
    assert 0.0 <= record["train_accuracy"] <= 1.0
    assert record["n_train"] == ds.n_train and record["n_test"] == ds.n_test
    assert record["n_train"] + record["n_test"] == 500 and 70 <= record["n_test"] <= 130
    assert record["stage"] == "train_classifier"
    assert record["seed"] == SEED
    assert record["config"] == {"hidden": 32, "max_iter": 100}
    assert list(record["inputs"]) == [str(data_npz)]
    assert any("test accuracy" in line for line in lines)


def test_stage_train_classifier_rejects_angle_labels(tmp_path) -> None:
    data_npz = tmp_path / "lines.npz"
    save_dataset(make_lines(20, 0.25, SEED, size=8, length=3.0, width=1.0, supersample=2), data_npz)
    out_npz, out_json = tmp_path / "out" / "clf.npz", tmp_path / "out" / "clf.json"
    with pytest.raises(LatentwalkError) as excinfo:
        classifier_stage.train_classifier(data_npz, SEED, 8, 5, out_npz, out_json)
    one_line(excinfo, str(data_npz), "class labels", "angle")
    assert not out_npz.exists() and not out_json.exists()


def test_active_dims_counts_dims_whose_mean_varies() -> None:
    """Var over rows > 0.01 (population variance): columns with variance 1, 0.25, 0.0104, 0.0096 and 0."""
    rng = np.random.default_rng(0)
    signs = np.where(np.arange(1000) % 2 == 0, 1.0, -1.0)  # mean 0, population variance exactly 1
    mu = np.stack([signs, 0.5 * signs, 0.102 * signs, 0.098 * signs, np.full(1000, 3.0)], axis=1)
    mu = mu[rng.permutation(1000)]
    assert active_dims(mu) == 3
    assert active_dims(mu, threshold=0.2) == 2
    assert active_dims(mu[:1]) == 0
    with pytest.raises(LatentwalkError, match="shape"):
        active_dims(mu[:, 0])


def test_encoded_norm_summary_counts_active_dims_per_split() -> None:
    split = np.array(["train"] * 4 + ["test"] * 4)
    mu = np.zeros((8, 3))
    mu[:4, 0] = [1, -1, 1, -1]  # dim 0 varies in train only
    mu[4:, 1] = [2, -2, 2, -2]  # dim 1 in test only
    table = encoded_norm_summary(np.linalg.norm(mu, axis=1), split, 3, mu=mu).set_index("split")
    assert table["active_dims"].to_dict() == {"train": 1, "test": 1, "all": 2}
    assert "active_dims" not in encoded_norm_summary(np.ones(8), split, 3).columns
