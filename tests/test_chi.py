"""The chi(d) law from numpy and math alone (latentwalk.chi) against scipy.stats.chi, and the entropy and logistic
function of latentwalk.quality against scipy.special: the same numbers without importing scipy into the jobs."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from scipy import special, stats

from latentwalk.measure import chi
from latentwalk.measure.quality import classifier_probabilities, entropy


@settings(max_examples=60, deadline=None)
@given(d=st.integers(1, 2000), q=st.floats(1e-12, 1 - 1e-12))
def test_ppf_equals_scipy_and_inverts_the_cdf(d: int, q: float) -> None:
    x = float(chi.chi_ppf(q, d))
    assert x == pytest.approx(float(stats.chi(d).ppf(q)), rel=1e-13)
    assert float(chi.chi_cdf(x, d)) == pytest.approx(q, rel=1e-11)


@settings(max_examples=60, deadline=None)
@given(d=st.integers(1, 2000), x=st.floats(0.0, 80.0))
def test_cdf_sf_and_pdf_equal_scipy(d: int, x: float) -> None:
    law = stats.chi(d)
    p, q = chi.regularised_gamma(d, 0.5 * x * x)
    for ours, theirs in ((p, law.cdf(x)), (q, law.sf(x)), (chi.chi_pdf(x, d), law.pdf(x))):
        if theirs > 1e-290:  # scipy itself flushes to 0 below; ours may keep a subnormal
            assert float(ours) == pytest.approx(float(theirs), rel=3e-12)
        else:
            assert float(ours) <= 1e-280
    assert float(p) + float(q) == pytest.approx(1.0, abs=1e-15)


def test_edges_of_the_domain() -> None:
    np.testing.assert_array_equal(chi.chi_ppf(np.array([0.0, 1.0]), 7), [0.0, np.inf])
    assert chi.chi_ppf(np.full((2, 3), 0.5), 4).shape == (2, 3)
    np.testing.assert_array_equal(chi.chi_cdf(np.array([-1.0, 0.0]), 3), [0.0, 0.0])
    assert float(chi.chi_pdf(0.0, 1)) == pytest.approx(float(stats.chi(1).pdf(0.0)))
    np.testing.assert_array_equal(chi.chi_pdf(np.array([-1.0, 0.0]), 1), [0.0, np.sqrt(2 / np.pi)])
    assert float(chi.chi_pdf(0.0, 5)) == 0.0
    with pytest.raises(ValueError, match="positive integer d"):
        chi.chi_cdf(1.0, 0)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        chi.chi_ppf(1.5, 3)


@pytest.mark.parametrize("d", [1, 2, 16, 1000])
def test_shell_is_the_central_99_percent(d: int) -> None:
    lo, hi = chi.shell_bounds(d)
    assert (lo, hi) == pytest.approx(tuple(stats.chi(d).ppf(chi.SHELL)), rel=1e-13)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), classes=st.sampled_from([1, 3, 10]), scale=st.floats(0.1, 200.0))
@example(seed=331, classes=1, scale=75.0)  # a probability of 4.6e-310, which scipy rounds to 0
def test_probabilities_and_entropy_equal_scipy(seed: int, classes: int, scale: float) -> None:
    rng = np.random.default_rng(seed)
    weights = {"w1": rng.normal(size=(6, 5)), "b1": rng.normal(size=5), "w2": rng.normal(size=(5, classes)) * scale,
               "b2": rng.normal(size=classes)}
    images = rng.random((9, 2, 3))
    p = classifier_probabilities(weights, images)
    if classes == 1:
        logits = np.maximum(images.reshape(9, -1) @ weights["w1"] + weights["b1"], 0) @ weights["w2"] + weights["b2"]
        # Below the smallest normal double scipy's 1 / (1 + exp(-x)) underflows to 0 where ours keeps the subnormal.
        np.testing.assert_allclose(p[:, 1], special.expit(logits[:, 0]), rtol=1e-15, atol=np.finfo(float).tiny)
    np.testing.assert_allclose(entropy(p), special.entr(p).sum(axis=1), rtol=1e-14, atol=1e-300)
    with_zero = np.array([[0.0, 1.0], [0.5, 0.5], [-0.1, 1.1]])
    np.testing.assert_array_equal(entropy(with_zero), special.entr(with_zero).sum(axis=1))


def test_the_per_run_statistics_and_figure_modules_do_not_import_scipy() -> None:
    code = ("import sys, latentwalk.chi, latentwalk.quality, latentwalk.figures_run, latentwalk.figures_quality, "
            "latentwalk.stages.path_stats, latentwalk.stages.figures_walks, latentwalk.stages.figures_run; "
            "from latentwalk.stats import chi_mean, encoded_norm_summary, path_norm_table; chi_mean(16); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
