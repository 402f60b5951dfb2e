"""Stage generate_paths: every path method of one run, one Parquet table per method.

Each method is a small function in :data:`PATH_METHODS` (its keys are the
registry's methods, checked by a test) that turns the run's encoded test split
(:class:`RunLatents`) and the method's settings into a :class:`~latentwalk.paths.PathSet`.
Endpoint pairs are drawn from a generator seeded by the seed alone, so lerp,
slerp, lerp_matched and geodesic of one run share their pairs; every other
random choice uses a generator seeded by (seed, method), so a method's table
does not depend on which other methods run.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .. import paths as P
from ..io import LatentwalkError, PathLike, atomic_dir, sha256_file, write_parquet
from ..logs import Log, quiet
from ..registry import METHODS


@dataclass
class RunLatents:
    """What path methods start from: the encoded test split of one run, and how to reach its decoder."""

    mu: np.ndarray  # (n, d) float64 encoded means
    labels: np.ndarray
    index: np.ndarray  # dataset row of each test example
    label_kind: str
    dim: int
    variational: bool
    seed: int
    model_pt: PathLike | None = None
    meta_json: PathLike | None = None
    device: str = "cpu"
    log: Log = quiet

    def rng(self, method: str) -> np.random.Generator:
        """The method's own generator: (seed, crc32(method))."""
        return np.random.default_rng([self.seed, zlib.crc32(method.encode())])

    def pairs(self, n: int, mode: str) -> np.ndarray:
        """Endpoint pairs (rows of the test split), the same for every pair interpolation."""
        return P.choose_pairs(self.labels, self.label_kind, n, mode, np.random.default_rng(self.seed))

    def pair_columns(self, pairs: np.ndarray, steps: int) -> dict[str, np.ndarray]:
        """Endpoint provenance per point: dataset indices and labels of each pair's ends."""
        return {
            "pair": np.repeat(np.arange(len(pairs)), steps),
            "index_a": np.repeat(self.index[pairs[:, 0]], steps),
            "index_b": np.repeat(self.index[pairs[:, 1]], steps),
            "label_a": np.repeat(self.labels[pairs[:, 0]], steps),
            "label_b": np.repeat(self.labels[pairs[:, 1]], steps),
        }


def read_run_latents(latents: PathLike, seed: int, **decoder: Any) -> RunLatents:
    """The encoded test split of a run's latent table (``decoder``: model_pt, meta_json, device, log)."""
    from ..columns import take
    from ..encoding import latent_matrix, read_latent_columns

    table, meta = read_latent_columns(latents)
    test = take(table, np.asarray(table["split"]).astype(str) == "test")
    return RunLatents(
        mu=latent_matrix(test).astype(np.float64),
        labels=test["label"],
        index=test["index"],
        label_kind=meta.get("label_kind", "class"),
        dim=int(meta["latent_dim"]),
        variational=bool(meta.get("variational", False)),
        seed=seed,
        **decoder,
    )


# --------------------------------------------------------------------------- one function per method


def _pair_walk(make: Callable[..., P.PathSet], run: RunLatents, params: Mapping[str, Any], **kwargs: Any) -> P.PathSet:
    pairs = run.pairs(params["pairs"]["n"], params["pairs"]["mode"])
    result = make(run.mu[pairs[:, 0]], run.mu[pairs[:, 1]], params["steps"], **kwargs)
    result.columns.update(run.pair_columns(pairs, params["steps"]))
    return result


def _lerp(run: RunLatents, params: Mapping[str, Any]) -> P.PathSet:
    return _pair_walk(P.lerp, run, params)


def _slerp(run: RunLatents, params: Mapping[str, Any]) -> P.PathSet:
    return _pair_walk(P.slerp, run, params, normalize=params["normalize"])


def _lerp_matched(run: RunLatents, params: Mapping[str, Any]) -> P.PathSet:
    return _pair_walk(P.lerp_matched, run, params)


def _geodesic(run: RunLatents, params: Mapping[str, Any]) -> P.PathSet:
    """Shortest decoded paths under the run's decoder, in float64 (the only method that loads torch)."""
    import torch

    from ..geodesic import geodesic
    from ..training import load_run_model, resolve_device

    if run.model_pt is None or run.meta_json is None:
        raise LatentwalkError("geodesic paths need the run's model.pt and meta.json")
    device = resolve_device(run.device)
    torch.manual_seed(run.seed)
    model, _ = load_run_model(run.model_pt, run.meta_json, device)
    model = model.double()
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    pairs = run.pairs(params["pairs"]["n"], params["pairs"]["mode"])[: params["n_pairs"]]
    result, history = geodesic(
        lambda z: model.decode(z.to(device)).cpu(),
        run.mu[pairs[:, 0]],
        run.mu[pairs[:, 1]],
        params["steps"],
        nodes=params["nodes"],
        iterations=params["iterations"],
        tolerance=params["tolerance"],
        euclidean_weight=params["euclidean_weight"],
        substeps=params["substeps"],
    )
    result.columns.update(run.pair_columns(pairs, params["steps"]))
    for row in history:
        run.log(f"geodesic pair {row['pair']} {row['start']}, {row['nodes']:3d} nodes: energy {row['line_energy']:.6f} "
                f"(line) -> {row['energy']:.6f} in {row['iterations']} L-BFGS iterations (lambda {row['lambda']:.3g})")
    steps = params["steps"]
    for k, (length, line, flag) in enumerate(zip(result.columns["dense_length"][::steps],
                                                 result.columns["line_dense_length"][::steps],
                                                 result.columns["not_shorter"][::steps])):
        run.log(f"geodesic pair {k}: dense decoded length {length:.6f} against the straight line's {line:.6f} "
                f"(ratio {length / line:.4f}){' NOT SHORTER: flagged' if flag else ''}")
    return result


def _prior_pairs(run: RunLatents, params: Mapping[str, Any]) -> P.PathSet:
    return P.prior_pairs(params["n"], run.dim, params["steps"], run.rng("prior_pairs"), params["variants"])


def _traverse_axis(run: RunLatents, params: Mapping[str, Any]) -> P.PathSet:
    starts = {
        "origin": lambda: np.zeros(run.dim),
        "mean": lambda: run.mu.mean(axis=0),
        "example": lambda: run.mu[int(run.rng("traverse_axis").integers(len(run.mu)))],
    }
    dims = params["dims"]
    if dims is None:
        dims = np.argsort(-run.mu.var(axis=0), kind="stable")[: params["max_dims"]].tolist()
    return P.traverse_axis(starts[params["start"]](), dims, params["range"], params["steps"])


def _traverse_pca(run: RunLatents, params: Mapping[str, Any]) -> P.PathSet:
    return P.traverse_pca(run.mu, params["components"], params["range"], params["steps"])


def _attribute(run: RunLatents, params: Mapping[str, Any]) -> P.PathSet:
    if run.label_kind != "class":
        raise LatentwalkError("attribute walks need class labels; this dataset is labelled by angle")
    rng = run.rng("attribute")
    alphas = np.linspace(params["alpha"][0], params["alpha"][1], params["steps"])
    parts = []
    for class_a, class_b in params["class_pairs"]:
        rows = np.flatnonzero(run.labels == class_b)
        if rows.size == 0:
            raise LatentwalkError(f"paths.attribute.class_pairs: class {class_b} has no encoded test examples")
        chosen = np.sort(rng.choice(rows, size=min(params["starts"], rows.size), replace=False))
        part = P.attribute(run.mu, run.labels, class_a, class_b, run.mu[chosen], alphas)
        part.columns["index_start"] = np.repeat(run.index[chosen], params["steps"])
        parts.append(part)
    return P.concat(parts)


def _grid(run: RunLatents, params: Mapping[str, Any]) -> P.PathSet:
    coordinates = params["coordinates"]
    if coordinates == "auto":
        coordinates = "latent" if run.dim == 2 and run.variational else "pca"
    if coordinates == "latent" and run.dim != 2:
        raise LatentwalkError(f"paths.grid.coordinates 'latent' needs d = 2, this run has d = {run.dim}")
    result = P.grid(params["n"], params["extent"], coordinates, run.mu)
    result.columns["coordinates"] = np.full(len(result.z), coordinates)
    return result


def _spiral(run: RunLatents, params: Mapping[str, Any]) -> P.PathSet:
    if run.dim != 2:
        raise LatentwalkError(f"spiral walks need d = 2, this run has d = {run.dim}")
    return P.spiral(params["steps"])


def _sphere_spiral(run: RunLatents, params: Mapping[str, Any]) -> P.PathSet:
    return P.sphere_spiral(run.dim, params["steps"], params["loops"], params["radius"])


#: Path method -> the function computing its points; the keys are exactly the registry's methods.
PATH_METHODS: dict[str, Callable[[RunLatents, Mapping[str, Any]], P.PathSet]] = {
    "lerp": _lerp,
    "slerp": _slerp,
    "lerp_matched": _lerp_matched,
    "prior_pairs": _prior_pairs,
    "traverse_axis": _traverse_axis,
    "traverse_pca": _traverse_pca,
    "attribute": _attribute,
    "grid": _grid,
    "spiral": _spiral,
    "sphere_spiral": _sphere_spiral,
    "geodesic": _geodesic,
}


def method_table(method: str, run: RunLatents, params: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """The tidy table of one method's points as columns (name -> array; column ``method`` first)."""
    if method not in PATH_METHODS:
        raise LatentwalkError(f"unknown path method {method!r}; allowed: {', '.join(METHODS)}")
    table = PATH_METHODS[method](run, params).columns_table()
    return {"method": np.full(len(table["norm"]), method, dtype=object), **table}


def generate_paths(
    run: str,
    methods: Sequence[str],
    latents: PathLike,
    settings: Mapping[str, Mapping[str, Any]],
    seed: int,
    out_dir: PathLike,
    model_pt: PathLike | None = None,
    meta_json: PathLike | None = None,
    device: str = "cpu",
    log: Log = quiet,
    made: PathLike | None = None,
) -> None:
    """Write ``out_dir/{method}.parquet`` for every method of one run (the directory appears whole or not at all).

    ``settings[method]`` holds the method's config section (plus ``pairs`` for
    pair interpolations); each table's metadata records them with the seed and
    the latent table's SHA-256. Methods without settings must already have
    their table in the directory ``made`` (the decoder-driven ones, which rule
    decoder_paths makes in a job of their own, so that a change to another
    method never reruns them): those are copied byte for byte, after checking
    that they were made from the same latent table.
    """
    made_files = {p.stem: p for p in Path(made).glob("*.parquet")} if made is not None else {}
    missing = [m for m in methods if m not in settings and m not in made_files]
    if missing:
        raise LatentwalkError(f"{run}: no settings for path method(s) {', '.join(missing)}")
    latent = read_run_latents(latents, seed, model_pt=model_pt, meta_json=meta_json, device=device, log=log)
    latents_sha = sha256_file(latents)
    with atomic_dir(out_dir) as tmp:
        for method in methods:
            start = time.perf_counter()
            if method not in settings:
                _take_made(made_files[method], Path(tmp, f"{method}.parquet"), latents_sha, log)
                continue
            table = method_table(method, latent, settings[method])
            write_parquet(
                table,
                Path(tmp, f"{method}.parquet"),
                {"run": run, "method": method, "latent_dim": latent.dim, "params": dict(settings[method]), "seed": seed,
                 "latents_sha256": latents_sha},
            )
            norm = table["norm"]
            log(f"{method}: {len(np.unique(table['path_id'])) if 'path_id' in table else 1} paths, {len(norm)} points "
                f"in {latent.dim}-D; norm min {norm.min():.4f} mean {norm.mean():.4f} max {norm.max():.4f} "
                f"({time.perf_counter() - start:.2f}s)")


def _take_made(source: Path, target: Path, latents_sha: str, log: Log) -> None:
    """Copy a path table made by another job into this run's directory, refusing one made from other latents."""
    import shutil

    from ..io import read_parquet_columns

    frame, meta = read_parquet_columns(source)
    if meta.get("latents_sha256") != latents_sha:
        raise LatentwalkError(f"{source}: made from latents {str(meta.get('latents_sha256'))[:12]}, not from this "
                              f"run's {latents_sha[:12]}; rerun its job")
    shutil.copyfile(source, target)
    log(f"{meta.get('method', source.stem)}: {len(np.unique(frame['path_id']))} paths, {len(frame['path_id'])} points, "
        f"taken from {source}")
