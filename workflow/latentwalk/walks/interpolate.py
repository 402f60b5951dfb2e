"""Interpolations between endpoint pairs with a closed form: lerp, slerp, distribution-matched lerp, and walks
between prior samples (``prior_pairs``). The geodesic, the one interpolation that needs the decoder, is in
:mod:`latentwalk.walks.geodesic`."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from latentwalk.core.io import LatentwalkError
from latentwalk.core.registry import PRIOR_VARIANTS
from latentwalk.walks.pathset import PathSet, concat

__all__ = ["lerp", "slerp", "lerp_matched", "prior_pairs", "as_pairs", "t_grid", "pair_columns", "SLERP_MIN_ANGLE",
           "ANTIPODAL_TOLERANCE"]


#: Below this angle (radians) between endpoints slerp falls back to lerp (sin(Omega) ~ 0).
SLERP_MIN_ANGLE = 1e-6
#: Endpoints within this angle of pi are antipodal: the great circle between them is not unique.
ANTIPODAL_TOLERANCE = 1e-6


def as_pairs(za: np.ndarray, zb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    za = np.atleast_2d(np.asarray(za, dtype=np.float64))
    zb = np.atleast_2d(np.asarray(zb, dtype=np.float64))
    if za.shape != zb.shape:
        raise LatentwalkError(f"endpoint arrays differ in shape: {za.shape} vs {zb.shape}")
    return za, zb


def t_grid(steps: int) -> np.ndarray:
    if steps < 2:
        raise LatentwalkError(f"steps must be >= 2, got {steps}")
    return np.linspace(0.0, 1.0, steps)


def pair_columns(n_pairs: int, t: np.ndarray) -> dict[str, np.ndarray]:
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
    za, zb = as_pairs(za, zb)
    t = t_grid(steps)
    pts = _lerp_points(za, zb, t)
    return PathSet(pts.reshape(-1, za.shape[1]), pair_columns(len(za), t))


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
    za, zb = as_pairs(za, zb)
    t = t_grid(steps)
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
    columns = pair_columns(len(za), t)
    columns["omega"] = np.repeat(omega, len(t))
    return PathSet(pts.reshape(-1, d), columns)


def lerp_matched(za: np.ndarray, zb: np.ndarray, steps: int) -> PathSet:
    """Distribution-matched lerp: ((1 - t) z_a + t z_b) / sqrt(t^2 + (1 - t)^2).

    For independent z_a, z_b ~ N(0, I_d) every point is again N(0, I_d), so its
    norm follows chi(d) instead of sinking towards sqrt(d/2) at the midpoint.
    """
    za, zb = as_pairs(za, zb)
    t = t_grid(steps)
    scale = np.sqrt(t * t + (1.0 - t) ** 2)
    pts = _lerp_points(za, zb, t) / scale[None, :, None]
    columns = pair_columns(len(za), t)
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
