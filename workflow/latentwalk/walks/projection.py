"""Projections of latent points to the plane: principal components by SVD (numpy alone), t-SNE and UMAP.

scikit-learn's PCA is the same computation as :func:`pca` (an exact SVD of the
centred data, each direction's sign fixed so that its largest-magnitude
coordinate is positive), but importing ``sklearn.decomposition`` costs a job
more than the path and figure jobs spend on their work; kept because it saves
more than 3% of the cold default run (benchmarks/bench_startup.py measures it).
t-SNE (scikit-learn) and UMAP (umap-learn) are imported only when asked for.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

__all__ = ["PCA", "pca", "embed", "place_by_neighbours", "subsample"]


@dataclass(frozen=True)
class PCA:
    """The top principal directions of a point cloud.

    ``components`` ``(k, d)`` are orthonormal rows; ``variance`` their variances
    (ddof = 1, as scikit-learn's ``explained_variance_``) and ``variance_ratio``
    their shares of the total variance.
    """

    mean: np.ndarray
    components: np.ndarray
    variance: np.ndarray
    variance_ratio: np.ndarray

    def transform(self, points: np.ndarray) -> np.ndarray:
        """Coordinates of ``points`` ``(n, d)`` along the components: ``(n, k)``."""
        return (np.asarray(points, dtype=np.float64) - self.mean) @ self.components.T


def pca(points: np.ndarray, k: int) -> PCA:
    """The top ``min(k, n, d)`` principal directions of ``points`` ``(n, d)`` (exact SVD, deterministic signs)."""
    x = np.asarray(points, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1:
        raise ValueError(f"pca needs an (n, d) array with n >= 1, got shape {x.shape}")
    k = min(k, x.shape[0], x.shape[1])
    mean = x.mean(axis=0)
    _, singular, vt = np.linalg.svd(x - mean, full_matrices=False)
    components = vt[:k]
    signs = np.sign(components[np.arange(k), np.abs(components).argmax(axis=1)])
    signs[signs == 0] = 1.0
    dof = max(x.shape[0] - 1, 1)
    variance = singular**2 / dof
    total = variance.sum()
    ratio = variance[:k] / total if total > 0 else np.zeros(k)
    return PCA(mean, components * signs[:, None], variance[:k], ratio)


def embed(points: np.ndarray, method: str, seed: int) -> np.ndarray:
    """2-D coordinates of ``points`` ``(n, d)``: the points themselves for d <= 2 (d = 1 on the x axis), else their
    top-2 principal components (``pca``), a t-SNE embedding (``tsne``, scikit-learn) or a UMAP embedding (``umap``,
    umap-learn); t-SNE and UMAP are seeded and single-threaded, so the same input gives the same coordinates."""
    x = np.asarray(points, dtype=np.float64)
    if x.shape[1] <= 2:
        return np.column_stack([x[:, 0], x[:, 1] if x.shape[1] == 2 else np.zeros(len(x))])
    if method == "pca":
        return pca(x, 2).transform(x)
    if len(x) < 5:
        raise ValueError(f"{method} needs at least 5 points, got {len(x)}")
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30, max(2, (len(x) - 1) // 3)))
        return TSNE(n_components=2, init="pca", random_state=seed, perplexity=perplexity).fit_transform(x)
    if method == "umap":

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # umap warns that a fixed seed turns off its parallelism: that is the point
            import umap

            model = umap.UMAP(n_components=2, n_neighbors=min(15, len(x) - 1), random_state=seed, n_jobs=1)
            return np.asarray(model.fit_transform(x), dtype=np.float64)
    raise ValueError(f"unknown projection {method!r}; allowed: 'pca', 'tsne', 'umap'")


def place_by_neighbours(points: np.ndarray, coords: np.ndarray, queries: np.ndarray, k: int = 5) -> np.ndarray:
    """Plane coordinates for new latent points under an embedding that cannot map them (t-SNE, UMAP): the
    inverse-distance-weighted mean of the coordinates of their ``k`` nearest ``points`` (exact at a point)."""
    p = np.asarray(points, dtype=np.float64)
    q = np.asarray(queries, dtype=np.float64)
    c = np.asarray(coords, dtype=np.float64)
    k = min(k, len(p))
    squared = (q * q).sum(axis=1)[:, None] + (p * p).sum(axis=1)[None, :] - 2.0 * (q @ p.T)
    dist = np.sqrt(np.maximum(squared, 0.0))
    nearest = np.argsort(dist, axis=1, kind="stable")[:, :k]
    d = np.take_along_axis(dist, nearest, axis=1)
    weights = 1.0 / np.maximum(d, 1e-12)
    weights /= weights.sum(axis=1, keepdims=True)
    return np.einsum("qk,qkj->qj", weights, c[nearest])


def subsample(n: int, k: int, seed: int) -> np.ndarray:
    """Sorted indices of a seeded subsample of ``k`` out of ``n`` (all when ``k >= n``)."""
    if k >= n:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=k, replace=False))
