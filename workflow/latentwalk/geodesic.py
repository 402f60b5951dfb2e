"""Decoder geodesics: latent paths of minimum decoded energy between fixed endpoints.

The only path method that needs the decoder (and so torch, imported inside
:func:`geodesic`). The discrete path energy of decoded frames g(z_0..z_S) is
E = sum_k |g(z_(k+1)) - g(z_k)|^2; its minimisers approximate shortest paths
under the decoder's pull-back metric.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .paths import PathSet, _as_pairs, _lerp_points, _pair_columns, _steps

__all__ = ["geodesic", "path_energy"]


def path_energy(images: np.ndarray) -> np.ndarray:
    """Discrete path energy sum_k |g(z_{k+1}) - g(z_k)|^2 of decoded paths ``(P, S, ...)``."""
    diffs = np.diff(images.reshape(images.shape[0], images.shape[1], -1).astype(np.float64), axis=1)
    return np.square(diffs).sum(axis=(1, 2))


def geodesic(
    decode: Callable[[Any], Any],
    za: np.ndarray,
    zb: np.ndarray,
    steps: int,
    iterations: int = 300,
    learning_rate: float = 0.05,
    tolerance: float = 1e-5,
) -> tuple[PathSet, list[dict[str, float]]]:
    """Shortest paths under the decoder's pull-back metric, by minimising discrete path energy.

    ``decode`` maps a torch tensor ``(m, d)`` to decoded outputs ``(m, ...)``.
    Endpoints stay fixed; the interior points start on the straight line and
    are moved by Adam on E = sum_k |g(z_{k+1}) - g(z_k)|^2. Optimisation stops
    when the relative energy decrease over 10 iterations drops below
    ``tolerance`` or after ``iterations``. The best (lowest-energy) interior
    found is returned, so the result never has higher energy than the line.
    Returns the paths and a history (iteration, mean energy) for the log.
    """
    import torch

    za, zb = _as_pairs(za, zb)
    t = _steps(steps)
    line = torch.as_tensor(_lerp_points(za, zb, t), dtype=torch.float32)
    p, s, d = line.shape
    start, end = line[:, :1], line[:, -1:]
    interior = line[:, 1:-1].clone().requires_grad_(True)
    optimiser = torch.optim.Adam([interior], lr=learning_rate)

    def energy_of(inner: Any) -> Any:
        path = torch.cat([start, inner, end], dim=1)
        out = decode(path.reshape(p * s, d)).reshape(p, s, -1)
        return (out[:, 1:] - out[:, :-1]).square().sum(dim=(1, 2))

    with torch.no_grad():
        initial = energy_of(interior)
    best_energy = initial.clone()
    best = interior.detach().clone()
    history = [{"iteration": 0, "energy": float(initial.mean())}]
    window = [float(initial.sum())]
    for it in range(1, iterations + 1):
        optimiser.zero_grad(set_to_none=True)
        energy = energy_of(interior)
        energy.sum().backward()
        optimiser.step()
        with torch.no_grad():
            current = energy_of(interior)
            improved = current < best_energy
            best[improved] = interior.detach()[improved]
            best_energy = torch.minimum(best_energy, current)
        if it % 10 == 0:
            total = float(best_energy.sum())
            history.append({"iteration": it, "energy": total / p})
            previous = window[-1]
            window.append(total)
            if previous > 0 and (previous - total) / previous < tolerance:
                break
    path = torch.cat([start, best, end], dim=1).numpy().astype(np.float64)
    path[:, 0] = za
    path[:, -1] = zb
    columns = _pair_columns(p, t)
    columns["energy"] = np.repeat(best_energy.numpy().astype(np.float64), s)
    columns["line_energy"] = np.repeat(initial.numpy().astype(np.float64), s)
    return PathSet(path.reshape(-1, d), columns), history
