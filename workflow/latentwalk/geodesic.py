"""Decoder geodesics: latent paths of minimum decoded length between fixed endpoints, and honest lengths.

The only path method that needs the decoder (and so torch, imported inside
:func:`geodesic`). For a decoder g, the discrete path energy of nodes
z_0..z_S is E = sum_k |g(z_(k+1)) - g(z_k)|^2; its minimisers approximate
constant-speed shortest paths under the pull-back metric J^T J.

Two things make the minimiser trustworthy:

- **A well-posed objective.** Where the decoder is flat along some latent
  directions (inactive dims: J^T J ~ 0 there), E is flat along them and any
  drift there is free, so solvers wander arbitrarily far. We minimise
  E + lambda * sum_k |z_(k+1) - z_k|^2, i.e. the metric J^T J + lambda I,
  which is unique there (the Euclidean term keeps flat coordinates on the
  straight line) and changes active-direction results by about the weight.
  lambda is set per pair so that the Euclidean term of the straight line is
  ``euclidean_weight`` times the straight line's energy: scale-free across
  datasets, image sizes and latent units.
- **Refinement and dense checks.** A coarse discretisation rewards paths
  that jump over costly regions between nodes, so the objective is minimised
  coarse to fine (``nodes``, e.g. 11 -> 21 -> 41, each stage starting from
  the previous one, upsampled), by L-BFGS with a strong-Wolfe line search.
  The coarse stages can themselves lock in such a jump (a local minimum the
  finer stages keep), so the finest node count is also optimised straight
  from the line, and the candidate with the shorter dense length is kept.
  The result is judged by its *dense* decoded length (every segment cut into
  ``substeps`` pieces, sum of |g(z_(i+1)) - g(z_i)|) against the straight
  line's, and the output frames are resampled at equal dense decoded arc
  length, so they are evenly spaced in image space.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .io import LatentwalkError
from .paths import PathSet, _as_pairs, _pair_columns, _steps

__all__ = ["GEODESIC_DEFAULTS", "path_energy", "dense_length", "resample_by_arc_length", "geodesic"]

#: Settings of :func:`geodesic` (config ``paths.geodesic``, apart from ``steps`` and ``n_pairs``).
GEODESIC_DEFAULTS: dict[str, Any] = {
    "nodes": (11, 21, 41),
    "iterations": 300,
    "tolerance": 1e-7,
    "euclidean_weight": 1e-2,
    "substeps": 16,
}


def path_energy(images: np.ndarray) -> np.ndarray:
    """Discrete path energy sum_k |g(z_{k+1}) - g(z_k)|^2 of decoded paths ``(P, S, ...)``."""
    diffs = np.diff(images.reshape(images.shape[0], images.shape[1], -1).astype(np.float64), axis=1)
    return np.square(diffs).sum(axis=(1, 2))


def _subdivide(nodes: np.ndarray, substeps: int) -> np.ndarray:
    """The polyline through ``nodes`` ``(n, d)`` with every segment cut into ``substeps`` equal pieces."""
    u = np.arange(substeps, dtype=np.float64)[None, :, None] / substeps
    inner = nodes[:-1, None, :] * (1.0 - u) + nodes[1:, None, :] * u
    return np.concatenate([inner.reshape(-1, nodes.shape[1]), nodes[-1:]])


def dense_length(decode: Callable[[np.ndarray], np.ndarray], nodes: np.ndarray, substeps: int) -> tuple[np.ndarray, np.ndarray]:
    """The decoded length of the polyline through ``nodes`` ``(n, d)``, each segment cut into ``substeps`` pieces.

    ``decode`` maps points ``(m, d)`` to decoded outputs ``(m, ...)`` as numpy. Returns the dense points and the
    cumulative decoded length at each (starting at 0; the last value is the length)."""
    if substeps < 1:
        raise LatentwalkError(f"paths.geodesic.substeps must be >= 1, got {substeps}")
    points = _subdivide(np.asarray(nodes, dtype=np.float64), substeps)
    images = np.asarray(decode(points), dtype=np.float64).reshape(len(points), -1)
    steps = np.linalg.norm(np.diff(images, axis=0), axis=1)
    return points, np.concatenate([[0.0], np.cumsum(steps)])


def resample_by_arc_length(points: np.ndarray, cumulative: np.ndarray, steps: int) -> np.ndarray:
    """``steps`` points on the polyline ``points`` ``(N, d)`` at equal fractions of its cumulative length; the
    polyline's ends exactly. A polyline of zero length is sampled at equal parameter steps instead."""
    total = float(cumulative[-1])
    if not total > 0:
        cumulative, total = np.linspace(0.0, 1.0, len(points)), 1.0
    targets = np.linspace(0.0, total, steps)
    out = np.column_stack([np.interp(targets, cumulative, points[:, j]) for j in range(points.shape[1])])
    out[0], out[-1] = points[0], points[-1]
    return out


def _upsample(nodes: np.ndarray, n: int) -> np.ndarray:
    """``n`` nodes at equal parameter steps along the polyline through ``nodes`` (ends kept exactly)."""
    u_old = np.linspace(0.0, 1.0, len(nodes))
    u_new = np.linspace(0.0, 1.0, n)
    out = np.column_stack([np.interp(u_new, u_old, nodes[:, j]) for j in range(nodes.shape[1])])
    out[0], out[-1] = nodes[0], nodes[-1]
    return out


def _check_nodes(nodes: Sequence[int]) -> list[int]:
    counts = [int(n) for n in nodes]
    if not counts or any(n < 3 for n in counts) or any(b <= a for a, b in zip(counts, counts[1:])):
        raise LatentwalkError(f"paths.geodesic.nodes must be increasing node counts >= 3, got {list(nodes)}")
    return counts


def _minimise(decode: Callable[[Any], Any], start: np.ndarray, iterations: int, tolerance: float,
              weight: float) -> tuple[np.ndarray, dict[str, float]]:
    """Minimise E + lambda |steps|^2 over the interior of the node path ``start`` ``(n, d)`` by L-BFGS (float64)."""
    import torch

    n, d = start.shape
    ends = torch.as_tensor(start[[0, -1]], dtype=torch.float64)
    line = torch.as_tensor(_upsample(start[[0, -1]], n), dtype=torch.float64)

    def energy(path: Any) -> Any:
        out = decode(path).reshape(n, -1)
        return (out[1:] - out[:-1]).square().sum()

    with torch.no_grad():
        line_energy = float(energy(line))
    span = float((ends[1] - ends[0]).square().sum())
    lam = weight * line_energy * (n - 1) / span if span > 0 and line_energy > 0 else 0.0
    interior = torch.tensor(start[1:-1], dtype=torch.float64, requires_grad=True)
    optimiser = torch.optim.LBFGS([interior], lr=1.0, max_iter=iterations, history_size=20, line_search_fn="strong_wolfe",
                                  tolerance_grad=1e-12, tolerance_change=tolerance * max(line_energy, 1e-12))

    def objective() -> Any:
        optimiser.zero_grad(set_to_none=True)
        path = torch.cat([ends[:1], interior, ends[1:]])
        value = energy(path) + lam * (path[1:] - path[:-1]).square().sum()
        value.backward()
        return value

    optimiser.step(objective)
    path = torch.cat([ends[:1], interior.detach(), ends[1:]])
    with torch.no_grad():
        final = float(energy(path))
    state = optimiser.state[optimiser._params[0]]
    return path.numpy().copy(), {"nodes": n, "line_energy": line_energy, "energy": final, "lambda": lam,
                                 "iterations": int(state.get("n_iter", 0))}


def geodesic(
    decode: Callable[[Any], Any],
    za: np.ndarray,
    zb: np.ndarray,
    steps: int,
    nodes: Sequence[int] = GEODESIC_DEFAULTS["nodes"],
    iterations: int = GEODESIC_DEFAULTS["iterations"],
    tolerance: float = GEODESIC_DEFAULTS["tolerance"],
    euclidean_weight: float = GEODESIC_DEFAULTS["euclidean_weight"],
    substeps: int = GEODESIC_DEFAULTS["substeps"],
) -> tuple[PathSet, list[dict[str, float]]]:
    """Shortest decoded paths between each pair of endpoints, resampled to ``steps`` frames at equal decoded arc length.

    ``decode`` maps a float64 torch tensor ``(m, d)`` to decoded outputs ``(m, ...)`` (differentiably). Per pair:
    minimise E + lambda |steps|^2 (see the module docstring) on each node count of ``nodes`` in turn, starting from
    the straight line, and once more on the finest count straight from the line; at most ``iterations`` L-BFGS
    iterations per stage, stopping when the objective changes by less than ``tolerance`` times the straight line's
    energy. Keep the candidate of shorter dense decoded length (``substeps`` pieces per segment of the finest
    nodes), measure the straight line the same way, and resample.

    Returns the paths, with per-path columns ``energy`` and ``line_energy`` (E on the finest nodes, after and
    before), ``dense_length``, ``line_dense_length`` and ``not_shorter`` (True when the dense length is not below
    the straight line's: not a geodesic worth the name), and a history row per pair and stage for the log.
    """
    import torch

    za, zb = _as_pairs(za, zb)
    counts = _check_nodes(nodes)
    t = _steps(steps)
    if not euclidean_weight >= 0:
        raise LatentwalkError(f"paths.geodesic.euclidean_weight must be >= 0, got {euclidean_weight}")

    def numpy_decode(points: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = [decode(torch.as_tensor(points[i : i + 1024], dtype=torch.float64)) for i in range(0, len(points), 1024)]
        return torch.cat(out).reshape(len(points), -1).numpy()

    paths, per_path, history = [], [], []
    for k in range(len(za)):
        ends = np.stack([za[k], zb[k]])
        current = _upsample(ends, counts[0])
        for n in counts:
            current, record = _minimise(decode, _upsample(current, n), iterations, tolerance, euclidean_weight)
            history.append({"pair": k, "start": "refined", **record})
        candidates = [(current, record)]
        if len(counts) > 1:  # the coarse stages can lock in a path that jumps a costly region: also start fine
            direct, direct_record = _minimise(decode, _upsample(ends, counts[-1]), iterations, tolerance, euclidean_weight)
            history.append({"pair": k, "start": "straight", **direct_record})
            candidates.append((direct, direct_record))
        measured = [(dense_length(numpy_decode, nodes, substeps), rec) for nodes, rec in candidates]
        (dense, cumulative), record = min(measured, key=lambda m: m[0][1][-1])
        history.append({"pair": k, "start": "chosen: " + ("refined" if record is candidates[0][1] else "straight"), **record})
        _, line_cumulative = dense_length(numpy_decode, _upsample(ends, counts[-1]), substeps)
        frames = resample_by_arc_length(dense, cumulative, steps)
        frames[0], frames[-1] = za[k], zb[k]
        paths.append(frames)
        per_path.append((record["energy"], record["line_energy"], cumulative[-1], line_cumulative[-1]))
    values = np.array(per_path, dtype=np.float64)
    columns = _pair_columns(len(za), t)
    for j, name in enumerate(("energy", "line_energy", "dense_length", "line_dense_length")):
        columns[name] = np.repeat(values[:, j], steps)
    columns["not_shorter"] = np.repeat(values[:, 2] >= values[:, 3], steps)
    return PathSet(np.concatenate(paths), columns), history
