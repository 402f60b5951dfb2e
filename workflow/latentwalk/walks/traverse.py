"""Walks that are not interpolations: traversals along latent axes, principal directions and attribute vectors,
the grid and the 2-D spiral, spirals on the prior's sphere, and the unit-sphere spiral of the geometry figures
(rule unit_sphere_spiral)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from latentwalk.core.io import LatentwalkError, PathLike, write_parquet
from latentwalk.core.logs import Log, quiet
from latentwalk.walks.pathset import PathSet
from latentwalk.walks.projection import pca

__all__ = ["traverse_axis", "traverse_pca", "attribute", "grid", "spiral", "spiral_xy", "sphere_spiral",
           "sphere_coordinates", "pca_basis", "unit_sphere_spiral"]


def traverse_axis(z_start: np.ndarray, dims: Sequence[int], value_range: float, steps: int) -> PathSet:
    """One path per latent dimension i: z_start + delta e_i, delta = linspace(-R, R, steps)."""
    z_start = np.asarray(z_start, dtype=np.float64).ravel()
    d = z_start.shape[0]
    dims = [int(i) for i in dims]
    bad = [i for i in dims if not 0 <= i < d]
    if bad:
        raise LatentwalkError(f"traverse_axis: dims {bad} out of range for latent dim {d}")
    delta = np.linspace(-value_range, value_range, steps)
    pts = np.repeat(z_start[None, None, :], len(dims), axis=0).repeat(steps, axis=1)
    for p, i in enumerate(dims):
        pts[p, :, i] = z_start[i] + delta
    columns = {
        "path_id": np.repeat(np.arange(len(dims)), steps),
        "step": np.tile(np.arange(steps), len(dims)),
        "delta": np.tile(delta, len(dims)),
        "dim": np.repeat(np.asarray(dims, dtype=np.int64), steps),
    }
    return PathSet(pts.reshape(-1, d), columns)


def pca_basis(latents: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, top-k principal directions (rows, orthonormal; the largest-magnitude coordinate of each positive) and
    their standard deviations."""

    fit = pca(latents, k)
    return fit.mean, fit.components, np.sqrt(fit.variance)


def traverse_pca(latents: np.ndarray, components: int, value_range: float, steps: int, z_start: np.ndarray | None = None) -> PathSet:
    """One path per principal direction v_k of ``latents``: z_start + delta sigma_k v_k.

    ``delta`` = linspace(-R, R, steps) is in units of that component's standard
    deviation sigma_k; ``z_start`` defaults to the latent mean.
    """
    mean, basis, std = pca_basis(latents, components)
    start = mean if z_start is None else np.asarray(z_start, dtype=np.float64).ravel()
    delta = np.linspace(-value_range, value_range, steps)
    pts = start[None, None, :] + delta[None, :, None] * (std[:, None, None] * basis[:, None, :])
    k = len(std)
    columns = {
        "path_id": np.repeat(np.arange(k), steps),
        "step": np.tile(np.arange(steps), k),
        "delta": np.tile(delta, k),
        "component": np.repeat(np.arange(k), steps),
        "component_std": np.repeat(std, steps),
    }
    return PathSet(pts.reshape(-1, latents.shape[1]), columns)


def attribute(
    latents: np.ndarray,
    labels: np.ndarray,
    class_a: int,
    class_b: int,
    starts: np.ndarray,
    alphas: np.ndarray,
) -> PathSet:
    """Latent arithmetic: z_start + alpha (mean(class A) - mean(class B)), one path per start.

    ``latents``/``labels`` define the class means; ``starts`` ``(n, d)`` are the
    points the walk starts from (usually encoded examples of class B, so that
    alpha = 1 lands near class A).
    """
    latents = np.asarray(latents, dtype=np.float64)
    in_a, in_b = labels == class_a, labels == class_b
    for cls, mask in ((class_a, in_a), (class_b, in_b)):
        if not mask.any():
            raise LatentwalkError(f"attribute: class {cls} has no encoded examples")
    direction = latents[in_a].mean(axis=0) - latents[in_b].mean(axis=0)
    starts = np.atleast_2d(np.asarray(starts, dtype=np.float64))
    alphas = np.asarray(alphas, dtype=np.float64)
    n, s = len(starts), len(alphas)
    pts = starts[:, None, :] + alphas[None, :, None] * direction[None, None, :]
    columns = {
        "path_id": np.repeat(np.arange(n), s),
        "step": np.tile(np.arange(s), n),
        "alpha": np.tile(alphas, n),
        "class_a": np.full(n * s, class_a, dtype=np.int64),
        "class_b": np.full(n * s, class_b, dtype=np.int64),
        "direction_norm": np.full(n * s, np.linalg.norm(direction)),
    }
    return PathSet(pts.reshape(-1, latents.shape[1]), columns)


def grid(n: int, extent: float, coordinates: str = "latent", latents: np.ndarray | None = None) -> PathSet:
    """An n x n grid over [-e, e]^2.

    ``coordinates="latent"``: the grid is in the (2-D) latent coordinates.
    ``coordinates="pca"``: it lies in the plane of the top-2 principal
    components of ``latents`` through their mean, with coordinates in units of
    each component's standard deviation. Rows of the grid are paths
    (``path_id`` = row, ``step`` = column); ``u`` runs along the first axis,
    ``v`` along the second, and the top row has the largest ``v``.
    """
    if n < 2:
        raise LatentwalkError(f"grid: n must be >= 2, got {n}")
    axis = np.linspace(-extent, extent, n)
    v, u = np.meshgrid(axis[::-1], axis, indexing="ij")  # row i: v = axis[n-1-i]; column j: u = axis[j]
    uv = np.column_stack([u.ravel(), v.ravel()])
    if coordinates == "latent":
        pts = uv
    elif coordinates == "pca":
        if latents is None or latents.shape[1] < 2:
            raise LatentwalkError("grid: the PCA plane needs encoded latents with d >= 2")
        mean, basis, std = pca_basis(latents, 2)
        pts = mean[None, :] + (uv * std[None, :]) @ basis
    else:
        raise LatentwalkError(f"grid coordinates {coordinates!r} is not allowed; allowed values: 'latent', 'pca'")
    columns = {
        "path_id": np.repeat(np.arange(n), n),
        "step": np.tile(np.arange(n), n),
        "u": uv[:, 0],
        "v": uv[:, 1],
    }
    return PathSet(pts, columns)


def spiral_xy(t: np.ndarray) -> np.ndarray:
    """The 2-D spiral x(t) = (0.2 t - 2) sin t, y(t) = (0.2 t - 2) cos t."""
    r = 0.2 * t - 2.0
    return np.column_stack([r * np.sin(t), r * np.cos(t)])


def spiral(steps: int, t_max: float = 3 * np.pi) -> PathSet:
    """Walk the 2-D spiral for t in [0, t_max] (default 3 pi) at ``steps`` evenly spaced t."""
    t = np.linspace(0.0, t_max, steps)
    return PathSet(spiral_xy(t), {"path_id": np.zeros(steps, np.int64), "step": np.arange(steps), "t": t})


def sphere_coordinates(theta: np.ndarray, radius: float | np.ndarray) -> np.ndarray:
    """Cartesian points from hyperspherical angles ``theta`` of shape (m, n - 1).

    x_1 = r cos th_1, x_k = r sin th_1 ... sin th_{k-1} cos th_k, x_n = r sin th_1 ... sin th_{n-1}.
    """
    theta = np.atleast_2d(np.asarray(theta, dtype=np.float64))
    m, n_minus_1 = theta.shape
    sin_prod = np.ones((m, n_minus_1 + 1))
    sin_prod[:, 1:] = np.cumprod(np.sin(theta), axis=1)
    cos = np.ones((m, n_minus_1 + 1))
    cos[:, :-1] = np.cos(theta)
    return np.asarray(radius, dtype=np.float64).reshape(-1, 1) * sin_prod * cos


def sphere_spiral(dim: int, steps: int, loops: float = 4.0, radius: float | None = None) -> PathSet:
    """A spiral on the sphere of radius r (default sqrt(d)) in R^d, d >= 2.

    th_1 .. th_{d-2} sweep [0, pi] together while th_{d-1} sweeps [0, 2 pi loops],
    so the walk goes from pole to pole winding ``loops`` times; in d = 2 it
    is the circle traversed ``loops`` times. Every point has norm r.
    """
    if dim < 2:
        raise LatentwalkError(f"sphere_spiral needs a latent dim >= 2, got {dim}")
    r = float(np.sqrt(dim)) if radius is None else float(radius)
    s = np.linspace(0.0, 1.0, steps)
    theta = np.empty((steps, dim - 1))
    theta[:, : dim - 2] = np.pi * s[:, None]
    theta[:, dim - 2] = 2.0 * np.pi * loops * s
    pts = sphere_coordinates(theta, np.full(steps, r))
    columns = {
        "path_id": np.zeros(steps, np.int64),
        "step": np.arange(steps),
        "t": s,
        "theta_first": theta[:, 0],
        "theta_last": theta[:, -1],
        "radius": np.full(steps, r),
    }
    return PathSet(pts, columns)


def unit_sphere_spiral(dim: int, steps: int, loops: float, uniform: int, seed: int, out_parquet: PathLike, log: Log = quiet) -> None:
    """The data of the unit-sphere figure: a spiral on the unit sphere in R^dim and a uniform sample of that sphere."""
    walk = sphere_spiral(dim, steps, loops, radius=1.0)
    rng = np.random.default_rng([seed, dim])
    sample = rng.standard_normal((uniform, dim))
    sample /= np.linalg.norm(sample, axis=1, keepdims=True)
    columns = {f"z_{i}": np.concatenate([walk.z[:, i], sample[:, i]]) for i in range(dim)}
    kind = ["spiral"] * steps + ["uniform"] * uniform
    frame = pd.DataFrame({"kind": kind, "t": np.concatenate([walk.columns["t"], np.full(uniform, np.nan)]), **columns})
    write_parquet(frame, out_parquet, {"dim": dim, "steps": steps, "loops": loops, "uniform": uniform, "seed": seed})
    log(f"spiral on the unit sphere in R^{dim}: {steps} points, {loops} loops; {uniform} uniform points")
