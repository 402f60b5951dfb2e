"""The numpy PCA against scikit-learn's, which it stands in for (the path, figure and explorer jobs use it)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.decomposition import PCA as SklearnPCA

from latentwalk.walks.projection import pca


@settings(max_examples=30, deadline=None)
@given(n=st.integers(3, 200), d=st.integers(2, 20), k=st.integers(1, 5), seed=st.integers(0, 10_000))
def test_pca_equals_scikit_learn(n: int, d: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)) * rng.uniform(0.1, 3.0, d) + rng.standard_normal(d)
    k = min(k, n, d)
    ours = pca(x, k)
    theirs = SklearnPCA(n_components=k, svd_solver="full").fit(x)
    signs = np.sign(theirs.components_[np.arange(k), np.abs(theirs.components_).argmax(axis=1)])
    np.testing.assert_allclose(ours.mean, theirs.mean_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.variance, theirs.explained_variance_, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.variance_ratio, theirs.explained_variance_ratio_, rtol=1e-9, atol=1e-12)
    separated = np.abs(np.diff(theirs.explained_variance_)) > 1e-6 * theirs.explained_variance_[0]
    for i in range(k):  # directions of distinct variances are unique up to sign; ours has the largest entry positive
        if (i == 0 or separated[i - 1]) and (i == k - 1 or separated[i]):
            np.testing.assert_allclose(ours.components[i], theirs.components_[i] * signs[i], atol=1e-8)
            assert ours.components[i][np.abs(ours.components[i]).argmax()] > 0
    np.testing.assert_allclose(ours.components @ ours.components.T, np.eye(k), atol=1e-12)


def test_pca_transform_and_edge_cases() -> None:
    x = np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0]])
    fit = pca(x, 2)
    np.testing.assert_allclose(fit.components[0], [1.0, 0.0])
    np.testing.assert_allclose(fit.transform(x)[:, 0], [-2.0, 0.0, 2.0])
    np.testing.assert_allclose(fit.variance, [4.0, 0.0])
    assert pca(np.ones((1, 3)), 2).components.shape == (1, 3)
    with pytest.raises(ValueError, match="shape"):
        pca(np.ones(3), 1)
