"""Principal components by SVD, in numpy alone.

scikit-learn's PCA is the same computation (an exact SVD of the centred data,
each direction's sign fixed so that its largest-magnitude coordinate is
positive), but importing ``sklearn.decomposition`` costs a job about two
seconds, more than the path and figure jobs spend on their work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PCA", "pca"]


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
