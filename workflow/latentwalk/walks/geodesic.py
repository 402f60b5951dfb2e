"""Decoder geodesics: latent paths of minimum decoded length between fixed endpoints, and honest lengths.

The only path method that needs the decoder (and so torch): rule decoder_paths (:func:`decoder_paths`) makes its
tables, which rule generate_paths takes in. For a decoder g, the discrete path energy of nodes z_0..z_S is E = sum_k
|g(z_(k+1)) - g(z_k)|^2; its minimisers approximate constant-speed shortest paths under the pull-back metric J^T J.

Two things make the minimiser trustworthy:

- **A well-posed objective.** Where the decoder is flat along some latent directions (inactive dims: J^T J ~ 0 there),
  E is flat along them and any drift there is free, so solvers wander arbitrarily far. We minimise E + lambda * sum_k
  |z_(k+1) - z_k|^2, i.e. the metric J^T J + lambda I, which is unique there (the Euclidean term keeps flat
  coordinates on the straight line) and changes active-direction results by about the weight. lambda is set per pair
  so that the Euclidean term of the straight line is ``euclidean_weight`` times the straight line's energy: scale-free
  across datasets, image sizes and latent units.
- **Refinement and dense checks.** A coarse discretisation rewards paths that jump over costly regions between nodes,
  so the objective is minimised coarse to fine (``nodes``, e.g. 11 -> 21 -> 41, each stage starting from the previous
  one, upsampled), by L-BFGS with a strong-Wolfe line search. Every start has its nodes moved along it to equal
  decoded arc length, the constant speed of every minimiser of E: the solver then only bends it. The coarse stages can
  themselves lock in such a jump (a local minimum the finer stages keep), so the finest node count is also optimised
  straight from the line, and the candidate with the shorter dense length is kept. Under the variance-aware metric the
  decoder's uncertainty saturates far from the data, so a line across an empty region sits where the objective is flat
  and no local solver leaves it: the finest count is then also started from each pair's shortest path through a
  nearest-neighbour graph of the training codes (:func:`graph_paths`). The result is judged by its *dense* decoded
  length (every segment cut into ``substeps`` pieces, sum of |g(z_(i+1)) - g(z_i)|) against the straight line's, and
  the output frames are resampled at equal dense decoded arc length, so they are evenly spaced in image space.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentwalk.core.io import LatentwalkError, PathLike, atomic_dir, sha256_file, write_json
from latentwalk.core.logs import Log, quiet
from latentwalk.model.checkpoint import load_run_model
from latentwalk.model.networks import resolve_device, use_threads
from latentwalk.walks.generate import RunLatents, method_settings, read_run_latents, write_method_table
from latentwalk.walks.interpolate import as_pairs, pair_columns, t_grid
from latentwalk.walks.metric import fit_run_variance, magnification, plane_basis, training_codes
from latentwalk.walks.pathset import PathSet

__all__ = ["Solver", "path_energy", "dense_length", "resample_by_arc_length", "graph_paths", "geodesic", "DECODER_METHODS",
           "magnification_map", "MAP_SIDE", "decoder_paths"]


@dataclass(frozen=True)
class Solver:
    """How :func:`geodesic` minimises (config ``paths.geodesic``, apart from ``steps`` and ``n_pairs``): the node
    counts of its stages, L-BFGS iterations per stage (and for the finest count's start from the line; 0: none) and
    the relative tolerance that stops one, the weight of the
    Euclidean term, and the pieces each segment is cut into for the dense length."""

    nodes: tuple[int, ...] = (11, 21, 41)
    iterations: int = 300
    straight_iterations: int = 30  # the finest count's start from the line: it pays on few pairs, and slowly
    tolerance: float = 1e-5
    euclidean_weight: float = 1e-2
    substeps: int = 16
    midpoints: bool = False  # the energy also decodes each segment's midpoint (no jumping a narrow costly region)

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Solver:
        """The solver settings among a method's config section (other keys ignored)."""
        return cls(nodes=tuple(int(n) for n in settings["nodes"]), iterations=int(settings["iterations"]),
                   straight_iterations=int(settings["straight_iterations"]),
                   tolerance=float(settings["tolerance"]), euclidean_weight=float(settings["euclidean_weight"]),
                   substeps=int(settings["substeps"]), midpoints=settings.get("metric") == "variance")


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


def _upsample_all(nodes: np.ndarray, n: int) -> np.ndarray:
    """:func:`_upsample` of every pair's node path ``(P, m, d)`` -> ``(P, n, d)``."""
    return np.stack([_upsample(path, n) for path in nodes])


#: Pieces per segment when a start's nodes are moved to equal decoded arc length (:func:`_respace`).
RESPACE_PIECES = 4


def _respace(decode: Callable[[np.ndarray], np.ndarray], starts: np.ndarray) -> np.ndarray:
    """Each pair's nodes ``starts`` ``(P, n, d)`` moved along their polyline to equal decoded arc length (segments cut
    into ``RESPACE_PIECES``; ``decode`` as for :func:`dense_length`): a start with the constant decoded speed of E's
    minimisers, so L-BFGS need not spend its iterations sliding nodes along the path."""
    return np.stack([resample_by_arc_length(*dense_length(decode, path, RESPACE_PIECES), len(path)) for path in starts])


def _minimise(decode: Callable[[Any], Any], start: np.ndarray, iterations: int, tolerance: float,
              weight: float, dtype: torch.dtype, midpoints: bool = False) -> tuple[np.ndarray, list[dict[str, float]]]:
    """Minimise E + lambda |steps|^2 over the interiors of every pair's node path ``start`` ``(P, n, d)`` at once,
    by one L-BFGS on their sum with each pair's objective divided by its straight line's energy (the pairs are
    independent, so each minimiser is the pair's own; one decoder call per evaluation serves all pairs)."""

    pairs, n, d = start.shape
    ends = torch.as_tensor(start[:, [0, -1]], dtype=dtype)
    line = torch.as_tensor(_upsample_all(start[:, [0, -1]], n), dtype=dtype)

    def energies(path: Any) -> Any:
        if midpoints:  # nodes and segment midpoints interleaved; half-segments weigh twice (the same scale)
            middle = 0.5 * (path[:, 1:] + path[:, :-1])
            path = torch.cat([torch.stack([path[:, :-1], middle], dim=2).reshape(pairs, 2 * (n - 1), d), path[:, -1:]], 1)
        m = path.shape[1]
        out = decode(path.reshape(pairs * m, d)).reshape(pairs, m, -1)
        return (m - 1) / (n - 1) * (out[:, 1:] - out[:, :-1]).square().sum(dim=(1, 2))

    with torch.no_grad():
        line_energy = energies(line).double()
    span = (ends[:, 1] - ends[:, 0]).double().square().sum(dim=1)
    usable = (span > 0) & (line_energy > 0)
    lam = torch.where(usable, weight * line_energy * (n - 1) / torch.where(usable, span, 1.0), 0.0).to(dtype)
    scale = torch.where(line_energy > 0, 1.0 / torch.where(line_energy > 0, line_energy, 1.0), 1.0).to(dtype)
    interior = torch.tensor(start[:, 1:-1], dtype=dtype, requires_grad=True)
    optimiser = torch.optim.LBFGS([interior], lr=1.0, max_iter=iterations, history_size=20, line_search_fn="strong_wolfe",
                                  tolerance_grad=1e-12, tolerance_change=tolerance * pairs)

    def objective() -> Any:
        optimiser.zero_grad(set_to_none=True)
        path = torch.cat([ends[:, :1], interior, ends[:, 1:]], dim=1)
        value = (scale * (energies(path) + lam * (path[:, 1:] - path[:, :-1]).square().sum(dim=(1, 2)))).sum()
        value.backward()
        return value

    optimiser.step(objective)
    path = torch.cat([ends[:, :1], interior.detach(), ends[:, 1:]], dim=1)
    with torch.no_grad():
        final = energies(path).double()
        steps_sq = (path[:, 1:] - path[:, :-1]).double().square().sum(dim=(1, 2))
        line_sq = (line[:, 1:] - line[:, :-1]).double().square().sum(dim=(1, 2))
        worse = final + lam.double() * steps_sq > line_energy + lam.double() * line_sq  # rounding, never the energy
        path[worse] = line[worse]  # a pair the optimiser did not improve keeps its straight line
        final = torch.where(worse, line_energy, final)
    taken = int(optimiser.state[optimiser._params[0]].get("n_iter", 0))
    records = [{"nodes": n, "line_energy": float(line_energy[k]), "energy": float(final[k]), "lambda": float(lam[k]),
                "iterations": taken} for k in range(pairs)]
    return path.double().numpy().copy(), records


#: Neighbours per code in the data graph that starts the variance geodesics.
GRAPH_NEIGHBOURS = 10


def graph_paths(decode: Callable[[np.ndarray], np.ndarray], codes: np.ndarray, za: np.ndarray, zb: np.ndarray,
                neighbours: int = GRAPH_NEIGHBOURS) -> list[np.ndarray | None]:
    """Shortest paths through the data between each pair ``za[k]``, ``zb[k]``: the graph joins every code of
    ``codes`` ``(n, d)`` and every endpoint to its ``neighbours`` nearest codes (latent distance), each edge weighted
    by the distance between its ends decoded (``decode``: points -> outputs, numpy), and Dijkstra walks it. Returns
    per pair the polyline ``za, codes..., zb`` (None where the graph does not join the two): a start for the
    optimiser that follows the data, which a local solver started on the straight line cannot find when the line
    crosses a region the metric makes flat (the decoder's uncertainty saturated far from the data)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra
    from scipy.spatial import cKDTree

    codes = np.asarray(codes, dtype=np.float64)
    points = np.concatenate([codes, za, zb])
    n, pairs = len(codes), len(za)
    k = min(neighbours, n - 1)
    if k < 1:
        return [None] * pairs
    outputs = np.asarray(decode(points), dtype=np.float64).reshape(len(points), -1)
    _, near = cKDTree(codes).query(points, k=k + 1)
    rows = np.repeat(np.arange(len(points)), k + 1)
    cols = near.ravel()
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    weights = np.linalg.norm(outputs[rows] - outputs[cols], axis=1) + 1e-12  # an explicit zero would be no edge
    graph = coo_matrix((weights, (rows, cols)), shape=(len(points), len(points))).tocsr()
    distances, previous = dijkstra(graph, directed=False, indices=n + np.arange(pairs), return_predecessors=True)
    out: list[np.ndarray | None] = []
    for j in range(pairs):
        node, trail = n + pairs + j, []
        if not np.isfinite(distances[j, node]):
            out.append(None)
            continue
        while node != n + j:
            trail.append(node)
            node = previous[j, node]
        trail.append(node)
        out.append(points[trail[::-1]])
    return out


def _along(polyline: np.ndarray, n: int) -> np.ndarray:
    """``n`` nodes at equal latent arc length along ``polyline`` (its ends exactly)."""
    steps = np.linalg.norm(np.diff(polyline, axis=0), axis=1)
    return resample_by_arc_length(polyline, np.concatenate([[0.0], np.cumsum(steps)]), n)


def geodesic(
    decode: Callable[[Any], Any],
    za: np.ndarray,
    zb: np.ndarray,
    steps: int,
    solver: Solver = Solver(),
    dtype: torch.dtype = torch.float64,
    data: np.ndarray | None = None,
) -> tuple[PathSet, list[dict[str, float]]]:
    """Shortest decoded paths between each pair of endpoints, resampled to ``steps`` frames at equal decoded arc length.

    ``decode`` maps a torch tensor ``(m, d)`` of ``dtype`` to decoded outputs ``(m, ...)`` (differentiably;
    for the variance-aware metric, the mean and the standard deviation side by side). All pairs at once: minimise
    E + lambda |steps|^2 (see the module docstring) on each node count of ``solver.nodes`` in turn, starting from
    the straight lines, and once more on the finest count straight from the lines, every start respaced to equal
    decoded arc length (:func:`_respace`); at most ``solver.iterations``
    L-BFGS iterations per stage, stopping when the summed objective (each pair's divided by its straight line's
    energy) changes by less than ``solver.tolerance`` per pair. Per pair, keep the candidate of shorter dense decoded
    length (``solver.substeps`` pieces per segment of the finest nodes), measure the straight line the same way,
    and resample.

    Returns the paths, with per-path columns ``energy`` and ``line_energy`` (E on the finest nodes, after and
    before), ``dense_length``, ``line_dense_length`` and ``not_shorter`` (True when the dense length is not below
    the straight line's: not a geodesic worth the name), and a history row per pair and stage for the log.
    """
    za, zb = as_pairs(za, zb)
    counts = _check_nodes(solver.nodes)
    t = t_grid(steps)
    if not solver.euclidean_weight >= 0:
        raise LatentwalkError(f"paths.geodesic.euclidean_weight must be >= 0, got {solver.euclidean_weight}")

    def numpy_decode(points: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out = [decode(torch.as_tensor(points[i : i + 4096], dtype=dtype)) for i in range(0, len(points), 4096)]
        return torch.cat(out).reshape(len(points), -1).double().numpy()

    def solve(starts: np.ndarray, iterations: int) -> tuple[np.ndarray, list[dict[str, float]]]:
        return _minimise(decode, _respace(numpy_decode, starts), iterations, solver.tolerance, solver.euclidean_weight,
                         dtype, solver.midpoints)

    ends = np.stack([za, zb], axis=1)  # (P, 2, d)
    history: list[dict[str, Any]] = []
    current = _upsample_all(ends, counts[0])
    for n in counts:
        current, records = solve(_upsample_all(current, n), solver.iterations)
        history += [{"pair": k, "start": "refined", **r} for k, r in enumerate(records)]
    candidates = [(current, records, "refined")]
    if len(counts) > 1 and solver.straight_iterations > 0:  # the coarse stages can lock in a path that jumps a
        # costly region: also start fine (a shorter budget: it wins on few pairs, and runs to its cap on most)
        direct, direct_records = solve(_upsample_all(ends, counts[-1]), solver.straight_iterations)
        history += [{"pair": k, "start": "straight", **r} for k, r in enumerate(direct_records)]
        candidates.append((direct, direct_records, "straight"))
    if data is not None:  # through the data: what a solver started on the line cannot reach
        starts = graph_paths(numpy_decode, data, za, zb)
        through = np.stack([_along(path, counts[-1]) if path is not None else _upsample(ends[k], counts[-1])
                            for k, path in enumerate(starts)])
        graph, graph_records = solve(through, solver.iterations)
        history += [{"pair": k, "start": "data graph", **r} for k, r in enumerate(graph_records)]
        candidates.append((graph, graph_records, "data graph"))
    paths, per_path = [], []
    for k in range(len(za)):
        measured = [(dense_length(numpy_decode, nodes[k], solver.substeps), recs[k], name) for nodes, recs, name in candidates]
        (dense, cumulative), record, name = min(measured, key=lambda m: m[0][1][-1])
        history.append({"pair": k, "start": "chosen: " + name, **record})
        _, line_cumulative = dense_length(numpy_decode, _upsample(ends[k], counts[-1]), solver.substeps)
        frames = resample_by_arc_length(dense, cumulative, steps)
        frames[0], frames[-1] = za[k], zb[k]
        paths.append(frames)
        per_path.append((record["energy"], record["line_energy"], cumulative[-1], line_cumulative[-1]))
    values = np.array(per_path, dtype=np.float64)
    columns = pair_columns(len(za), t)
    for j, name in enumerate(("energy", "line_energy", "dense_length", "line_dense_length")):
        columns[name] = np.repeat(values[:, j], steps)
    columns["not_shorter"] = np.repeat(values[:, 2] >= values[:, 3], steps)
    return PathSet(np.concatenate(paths), columns), history


# --------------------------------------------------------------------------- rule decoder_paths


def _geodesic(run: RunLatents, params: Mapping[str, Any], decode: Callable[[Any], Any],
              data: np.ndarray | None = None) -> PathSet:
    """Shortest decoded paths between the run's first ``n_pairs`` endpoint pairs, logged pair by pair (``decode``:
    the decoder the metric ``params["metric"]`` walks; ``data``: codes whose graph gives one more start)."""
    pairs = run.pairs(params["pairs"]["n"], params["pairs"]["mode"])[: params["n_pairs"]]
    result, history = geodesic(decode, run.mu[pairs[:, 0]], run.mu[pairs[:, 1]], params["steps"], Solver.of(params),
                               dtype=torch.float32, data=data)
    result.columns.update(run.pair_columns(pairs, params["steps"]))
    name = f"geodesic ({params.get('metric', 'mean')} metric)"
    for row in history:
        run.log(f"{name} pair {row['pair']} {row['start']}, {row['nodes']:3d} nodes: energy {row['line_energy']:.6f} "
                f"(line) -> {row['energy']:.6f} in {row['iterations']} L-BFGS iterations (lambda {row['lambda']:.3g})")
    columns, steps = result.columns, params["steps"]
    measures = ("dense_length", "line_dense_length", "not_shorter")
    for k, (length, line, flag) in enumerate(zip(*(columns[c][::steps] for c in measures))):
        run.log(f"{name} pair {k}: dense decoded length {length:.6f} against the straight line's {line:.6f} "
                f"(ratio {length / line:.4f}){' NOT SHORTER: flagged' if flag else ''}")
    return result


#: The path methods that need the run's decoder (the registry's ``needs_decoder``): method -> its function of the
#: run's latents, the method's settings and the decoder (float32 torch tensors in and out, differentiable).
DECODER_METHODS: dict[str, Callable[[RunLatents, Mapping[str, Any], Callable[[Any], Any]], PathSet]] = {
    "geodesic": _geodesic,  # under paths.geodesic.metric
    "geodesic_variance": _geodesic,  # the same settings under the variance metric
}


#: Grid points per side of the magnification map.
MAP_SIDE = 40


def magnification_map(decode: Callable[[Any], Any], codes: np.ndarray, side: int = MAP_SIDE) -> dict[str, np.ndarray]:
    """The decoder's local area element ``sqrt(det(J_p^T J_p))`` over the plane of :func:`~latentwalk.walks.metric.
    plane_basis` (the latent plane of a 2-D run, else the top two principal directions of ``codes`` through their
    mean), on a ``side`` x ``side`` grid covering the codes' projections with a 10% margin. Returns the arrays of
    ``magnification.npz``: ``origin``, ``basis``, the grid axes ``u`` and ``v`` and ``values`` ``(side, side)``
    (rows along ``v``)."""
    origin, basis = plane_basis(codes)
    plane = (np.asarray(codes, dtype=np.float64) - origin) @ basis
    lo, hi = plane.min(axis=0), plane.max(axis=0)
    margin = 0.1 * np.maximum(hi - lo, 1e-6)
    u = np.linspace(lo[0] - margin[0], hi[0] + margin[0], side)
    v = np.linspace(lo[1] - margin[1], hi[1] + margin[1], side)
    uu, vv = np.meshgrid(u, v)
    points = origin + np.column_stack([uu.ravel(), vv.ravel()]) @ basis.T
    values = magnification(decode, points, basis).reshape(side, side)
    return {"origin": origin, "basis": basis, "u": u, "v": v, "values": values}


def decoder_paths(
    run: str,
    methods: Sequence[str],
    inputs: Mapping[str, PathLike],
    params: Mapping[str, Any],
    out_dir: PathLike,
    log: Log = quiet,
    threads: int = 1,
) -> None:
    """Write ``out_dir/{method}.parquet`` for each of the run's ``methods`` that need its decoder.

    ``inputs`` names the run's ``latents``, ``meta`` (its meta.json) and ``model`` (weights) or an external model's
    ``encoder`` and ``decoder``; ``params`` are rule
    decoder_paths' params: ``seed``, ``device``, ``pairs`` and each method's config section under its name. The
    decoder runs in float32 (as it was trained; the dense check that each geodesic is shorter than its straight line
    holds as in float64, at half the cost), its weights frozen, torch on ``threads`` threads.
    """
    unknown = [m for m in methods if m not in DECODER_METHODS]
    if unknown:
        raise LatentwalkError(f"{run}: {', '.join(unknown)} is not a path method that needs the decoder; "
                              f"those are {', '.join(DECODER_METHODS)}")
    latent = read_run_latents(run, inputs["latents"], int(params["seed"]), log)
    use_threads(threads)
    device = resolve_device(params["device"])
    torch.manual_seed(latent.seed)
    model, _ = load_run_model(inputs, device)
    model = model.float()
    for parameter in model.parameters():
        parameter.requires_grad_(False)

    def decode(z: torch.Tensor) -> torch.Tensor:
        return model.decode(z.to(device)).cpu()

    settings = {method: method_settings(method, params) for method in methods}
    variance = next((s["variance"] for s in settings.values() if s.get("metric") == "variance"), None)
    network = codes = None
    if variance is not None:  # the decoder's uncertainty, and the training codes the variance geodesics start along
        codes, images = training_codes(inputs["latents"], inputs["data"], int(variance["max_codes"]), latent.seed)
        network = fit_run_variance(decode, codes, images, variance, latent.seed)
        log(f"{run}: variance network {network.summary()}")

    def expected(z: torch.Tensor) -> torch.Tensor:  # the expected metric: mean and standard deviation side by side
        return torch.cat([decode(z).flatten(1), network.std(z)], dim=1)

    latents_sha = sha256_file(inputs["latents"])
    with atomic_dir(out_dir) as tmp:
        for method in methods:
            on_variance = settings[method].get("metric") == "variance"
            make = partial(DECODER_METHODS[method], decode=expected if on_variance else decode,
                           data=codes if on_variance else None)
            write_method_table(method, make, latent, settings[method], Path(tmp, f"{method}.parquet"), latents_sha)
        if network is not None:
            write_json(Path(tmp, "variance.json"), {"run": run, "metric": "variance", **network.summary(),
                                                    "settings": dict(variance)})
        if methods:  # where the decoder stretches the plane the walks cross (figure: plot_walks)
            grid = magnification_map(lambda z: model.decode(z.to(device, torch.float32)).double().cpu(), latent.mu)
            if network is not None:  # the variance metric: the decoder's standard deviation on the same grid
                uu, vv = np.meshgrid(grid["u"], grid["v"])
                points = grid["origin"] + np.column_stack([uu.ravel(), vv.ravel()]) @ grid["basis"].T
                with torch.no_grad():
                    std = network.std(torch.as_tensor(points, dtype=torch.float32)).mean(dim=1)
                grid["std"] = std.double().numpy().reshape(grid["values"].shape)
            np.savez(Path(tmp, "magnification.npz"), **grid)
            log(f"{run}: magnification map on a {MAP_SIDE} x {MAP_SIDE} grid, median {np.median(grid['values']):.4g}, "
                f"max {grid['values'].max():.4g}")
