"""Latent paths: every walk of the SPEC as a vectorised numpy function.

Each method returns a :class:`PathSet`: the latent points of one or more paths
stacked as ``z`` with shape ``(n_points, d)`` plus one parameter column per
point (``path_id``, ``step``, ``t`` or ``delta`` and the method's own
parameters), ready to be written as one tidy table. Points of one path are
contiguous and ordered by ``step``.

Only :func:`geodesic` needs torch (the decoder's autograd); it is imported
inside that function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .io import LatentwalkError
from .registry import PRIOR_VARIANTS

__all__ = [
    "PathSet",
    "lerp",
    "slerp",
    "lerp_matched",
    "prior_pairs",
    "traverse_axis",
    "traverse_pca",
    "attribute",
    "grid",
    "spiral",
    "spiral_xy",
    "sphere_spiral",
    "sphere_coordinates",
    "concat",
    "SLERP_MIN_ANGLE",
    "ANTIPODAL_TOLERANCE",
]

#: Below this angle (radians) between endpoints slerp falls back to lerp (sin(Omega) ~ 0).
SLERP_MIN_ANGLE = 1e-6
#: Endpoints within this angle of pi are antipodal: the great circle between them is not unique.
ANTIPODAL_TOLERANCE = 1e-6


@dataclass
class PathSet:
    """Points of one or more latent paths and a parameter column per point."""

    z: np.ndarray  # (n_points, d) float64
    columns: dict[str, np.ndarray] = field(default_factory=dict)  # each (n_points,)

    def __post_init__(self) -> None:
        self.z = np.asarray(self.z, dtype=np.float64)
        if self.z.ndim != 2:
            raise LatentwalkError(f"path points must be 2-D (n_points, d), got shape {self.z.shape}")
        for name, values in self.columns.items():
            if len(values) != len(self.z):
                raise LatentwalkError(f"path column {name!r} has {len(values)} values for {len(self.z)} points")

    @property
    def n_paths(self) -> int:
        return int(len(np.unique(self.columns["path_id"]))) if "path_id" in self.columns else 1

    @property
    def norm(self) -> np.ndarray:
        return np.linalg.norm(self.z, axis=1)

    def columns_table(self) -> dict[str, np.ndarray]:
        """The tidy table as columns (name -> array, no pandas): parameter columns, ``z_0 .. z_{d-1}`` and ``norm``."""
        data = {name: np.asarray(values) for name, values in self.columns.items()}
        data.update({f"z_{i}": self.z[:, i] for i in range(self.z.shape[1])})
        data["norm"] = self.norm
        return data

    def table(self) -> Any:
        """The tidy table (:meth:`columns_table`) as a pandas DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.columns_table())


def _as_pairs(za: np.ndarray, zb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    za = np.atleast_2d(np.asarray(za, dtype=np.float64))
    zb = np.atleast_2d(np.asarray(zb, dtype=np.float64))
    if za.shape != zb.shape:
        raise LatentwalkError(f"endpoint arrays differ in shape: {za.shape} vs {zb.shape}")
    return za, zb


def _steps(steps: int) -> np.ndarray:
    if steps < 2:
        raise LatentwalkError(f"steps must be >= 2, got {steps}")
    return np.linspace(0.0, 1.0, steps)


def _pair_columns(n_pairs: int, t: np.ndarray) -> dict[str, np.ndarray]:
    steps = len(t)
    return {
        "path_id": np.repeat(np.arange(n_pairs), steps),
        "step": np.tile(np.arange(steps), n_pairs),
        "t": np.tile(t, n_pairs),
    }


def _lerp_points(za: np.ndarray, zb: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(P, S, d) points (1 - t) za + t zb; exact at t = 0 and t = 1."""
    tt = t[None, :, None]
    out = (1.0 - tt) * za[:, None, :] + tt * zb[:, None, :]
    out[:, 0] = za  # exact endpoints whatever the rounding
    out[:, -1] = zb
    return out


def lerp(za: np.ndarray, zb: np.ndarray, steps: int) -> PathSet:
    """Linear interpolation z(t) = (1 - t) z_a + t z_b, t = linspace(0, 1, steps), for each pair."""
    za, zb = _as_pairs(za, zb)
    t = _steps(steps)
    pts = _lerp_points(za, zb, t)
    return PathSet(pts.reshape(-1, za.shape[1]), _pair_columns(len(za), t))


def _angles(za: np.ndarray, zb: np.ndarray) -> np.ndarray:
    na = np.linalg.norm(za, axis=1)
    nb = np.linalg.norm(zb, axis=1)
    if np.any(na == 0) or np.any(nb == 0):
        raise LatentwalkError("slerp: an endpoint is the zero vector, which has no direction")
    cos = np.einsum("pd,pd->p", za, zb) / (na * nb)
    return np.arccos(np.clip(cos, -1.0, 1.0))


def _slerp_unit(ua: np.ndarray, ub: np.ndarray, omega: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Great-circle points between rows of ``ua`` and ``ub`` (lerp where Omega ~ 0)."""
    small = omega < SLERP_MIN_ANGLE
    safe = np.where(small, 1.0, omega)
    sin = np.sin(safe)[:, None]
    wa = np.sin((1.0 - t)[None, :] * safe[:, None]) / sin
    wb = np.sin(t[None, :] * safe[:, None]) / sin
    # small angles: the limit of the weights is (1 - t, t)
    wa = np.where(small[:, None], (1.0 - t)[None, :], wa)
    wb = np.where(small[:, None], t[None, :], wb)
    out = wa[:, :, None] * ua[:, None, :] + wb[:, :, None] * ub[:, None, :]
    out[:, 0] = ua
    out[:, -1] = ub
    return out


def slerp(za: np.ndarray, zb: np.ndarray, steps: int, normalize: str = "none") -> PathSet:
    """Spherical linear interpolation along the great circle from z_a to z_b.

    ``normalize``: ``"none"`` applies the classic formula to the raw vectors
    (constant norm only when |z_a| = |z_b|); ``"radius"`` interpolates the
    directions on the unit sphere and the radius linearly; ``"sqrt_d"`` puts
    every point on the sphere of radius sqrt(d), the prior's typical shell.
    Falls back to lerp for (nearly) parallel endpoints; antipodal endpoints
    raise :class:`LatentwalkError` because the great circle is not unique.
    """
    za, zb = _as_pairs(za, zb)
    t = _steps(steps)
    omega = _angles(za, zb)
    antipodal = np.flatnonzero(omega > np.pi - ANTIPODAL_TOLERANCE)
    if antipodal.size:
        raise LatentwalkError(
            f"slerp: endpoints of pair {int(antipodal[0])} are antipodal (angle {omega[antipodal[0]]:.9f} rad "
            "~ pi): the great circle between them is not unique"
        )
    d = za.shape[1]
    if normalize == "none":
        pts = _slerp_unit(za, zb, omega, t)
    elif normalize in ("radius", "sqrt_d"):
        na = np.linalg.norm(za, axis=1)
        nb = np.linalg.norm(zb, axis=1)
        unit = _slerp_unit(za / na[:, None], zb / nb[:, None], omega, t)
        unit /= np.linalg.norm(unit, axis=2, keepdims=True)
        if normalize == "radius":
            radius = (1.0 - t)[None, :] * na[:, None] + t[None, :] * nb[:, None]
        else:
            radius = np.full((len(za), len(t)), np.sqrt(d))
        pts = unit * radius[:, :, None]
        if normalize == "radius":
            pts[:, 0] = za
            pts[:, -1] = zb
    else:
        raise LatentwalkError(f"slerp normalize {normalize!r} is not allowed; allowed values: 'none', 'radius', 'sqrt_d'")
    columns = _pair_columns(len(za), t)
    columns["omega"] = np.repeat(omega, len(t))
    return PathSet(pts.reshape(-1, d), columns)


def lerp_matched(za: np.ndarray, zb: np.ndarray, steps: int) -> PathSet:
    """Distribution-matched lerp: ((1 - t) z_a + t z_b) / sqrt(t^2 + (1 - t)^2).

    For independent z_a, z_b ~ N(0, I_d) every point is again N(0, I_d), so its
    norm follows chi(d) instead of sinking towards sqrt(d/2) at the midpoint.
    """
    za, zb = _as_pairs(za, zb)
    t = _steps(steps)
    scale = np.sqrt(t * t + (1.0 - t) ** 2)
    pts = _lerp_points(za, zb, t) / scale[None, :, None]
    columns = _pair_columns(len(za), t)
    columns["scale"] = np.tile(scale, len(za))
    return PathSet(pts.reshape(-1, za.shape[1]), columns)


def prior_pairs(
    n_pairs: int, dim: int, steps: int, rng: np.random.Generator, methods: Sequence[str] = PRIOR_VARIANTS
) -> PathSet:
    """Endpoints drawn from N(0, I_d), normalised and scaled to sqrt(d); the same pairs under each method.

    The ``variant`` column names the interpolation and ``pair`` the endpoint
    pair (shared by its variants); ``path_id`` is unique per (variant, pair).
    """
    if n_pairs < 1:
        raise LatentwalkError(f"prior_pairs: n must be >= 1, got {n_pairs}")
    ends = rng.standard_normal((2, n_pairs, dim))
    ends *= np.sqrt(dim) / np.linalg.norm(ends, axis=2, keepdims=True)
    makers: dict[str, Callable[[np.ndarray, np.ndarray, int], PathSet]] = {
        "lerp": lerp,
        "slerp": slerp,
        "lerp_matched": lerp_matched,
    }
    parts = []
    for name in methods:
        if name not in makers:
            raise LatentwalkError(f"prior_pairs: method {name!r} is not allowed; allowed values: {', '.join(makers)}")
        part = makers[name](ends[0], ends[1], steps)
        part.columns = {k: v for k, v in part.columns.items() if k in ("path_id", "step", "t")}
        part.columns["pair"] = part.columns["path_id"].copy()
        part.columns["variant"] = np.full(len(part.z), name)
        parts.append(part)
    return concat(parts)


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
    from .projection import pca

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


def concat(parts: Sequence[PathSet]) -> PathSet:
    """Stack path sets; path ids are renumbered 0 .. n-1 across the parts."""
    if not parts:
        raise LatentwalkError("no paths to concatenate")
    keys = list(parts[0].columns)
    for part in parts[1:]:
        for key in part.columns:
            if key not in keys:
                keys.append(key)
    columns: dict[str, np.ndarray] = {}
    offset = 0
    ids = []
    for part in parts:
        unique, dense = np.unique(part.columns["path_id"], return_inverse=True)
        ids.append(dense.astype(np.int64) + offset)
        offset += len(unique)
    for key in keys:
        if key == "path_id":
            columns[key] = np.concatenate(ids)
            continue
        values = []
        textual = any(key in part.columns and part.columns[key].dtype.kind in "OUS" for part in parts)
        for part in parts:
            if key in part.columns:
                values.append(part.columns[key].astype(object) if textual else part.columns[key])
            else:
                values.append(np.full(len(part.z), None if textual else np.nan, dtype=object if textual else np.float64))
        columns[key] = np.concatenate(values)
    return PathSet(np.concatenate([part.z for part in parts]), columns)


def choose_pairs(labels: np.ndarray, label_kind: str, n: int, mode: str, rng: np.random.Generator) -> np.ndarray:
    """Row indices ``(n, 2)`` of endpoint pairs, drawn reproducibly from ``rng``.

    ``random``: two distinct rows. ``same_class``: two distinct rows of one class,
    cycling through the classes (in sorted order) that have at least two rows.
    ``cross_class``: rows of two different classes. Angle-labelled data has no
    classes, so every mode draws random pairs there. Object-labelled data (views)
    always gets ``2n`` pairs whatever the mode: ``n`` of one object seen from two
    views (``same_class``), then ``n`` of two different objects (``cross_class``).
    """
    m = len(labels)
    if m < 2:
        raise LatentwalkError(f"endpoint pairs need at least 2 encoded test examples, got {m}")
    if mode not in ("random", "same_class", "cross_class"):
        raise LatentwalkError(f"paths.pairs.mode {mode!r} is not allowed; allowed values: 'random', 'same_class', 'cross_class'")
    if label_kind == "object":
        return np.concatenate([choose_pairs(labels, "class", n, "same_class", rng),
                               choose_pairs(labels, "class", n, "cross_class", rng)])
    if label_kind != "class" or mode == "random":
        out = np.empty((n, 2), dtype=np.int64)
        for k in range(n):
            out[k] = rng.choice(m, size=2, replace=False)
        return out
    classes = np.unique(labels)
    if mode == "same_class":
        usable = [c for c in classes if (labels == c).sum() >= 2]
        if not usable:
            raise LatentwalkError("paths.pairs.mode 'same_class': no class has two encoded test examples")
        out = np.empty((n, 2), dtype=np.int64)
        for k in range(n):
            rows = np.flatnonzero(labels == usable[k % len(usable)])
            out[k] = rng.choice(rows, size=2, replace=False)
        return out
    if len(classes) < 2:
        raise LatentwalkError("paths.pairs.mode 'cross_class': the test split has a single class")
    out = np.empty((n, 2), dtype=np.int64)
    for k in range(n):
        a = int(rng.integers(m))
        others = np.flatnonzero(labels != labels[a])
        out[k] = (a, int(rng.choice(others)))
    return out
