"""Rule generate_paths: every path method of one run, one Parquet table per method.

Each method made from the latents alone is a small function in :data:`PATH_METHODS` that turns the run's encoded
test split (:class:`RunLatents`) and the method's settings (config ``paths.<method>``) into a
:class:`~latentwalk.walks.pathset.PathSet`; the methods that need the decoder are made by rule decoder_paths
(:mod:`latentwalk.walks.geodesic`) and taken in here byte for byte. Endpoint pairs are drawn from a generator
seeded by the seed alone, so lerp, slerp, lerp_matched and geodesic of one run share their pairs; every other
random choice uses a generator seeded by (seed, method), so a method's table does not depend on which other
methods run.
"""

from __future__ import annotations

import shutil
import time
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentwalk.core.io import LatentwalkError, PathLike, atomic_dir, read_parquet, sha256_file, write_parquet
from latentwalk.core.latents import latent_matrix, read_latents
from latentwalk.core.logs import Log, quiet
from latentwalk.core.registry import METHODS
from latentwalk.walks import interpolate, traverse
from latentwalk.walks.pathset import PathSet, available_pairs, choose_pairs, concat

__all__ = ["RunLatents", "read_run_latents", "PATH_METHODS", "method_settings", "write_method_table", "generate_paths"]


@dataclass
class RunLatents:
    """What path methods start from: the encoded test split of one run."""

    run: str
    mu: np.ndarray  # (n, d) float64 encoded means
    labels: np.ndarray
    index: np.ndarray  # dataset row of each test example
    label_kind: str
    dim: int
    variational: bool
    seed: int
    log: Log = quiet

    def rng(self, method: str) -> np.random.Generator:
        """The method's own generator: (seed, crc32(method))."""
        return np.random.default_rng([self.seed, zlib.crc32(method.encode())])

    def pairs(self, n: int, mode: str) -> np.ndarray:
        """Endpoint pairs (rows of the test split), the same for every pair interpolation; distinct and unordered, so
        at most as many as the split offers (the log says when that is fewer than asked)."""
        pairs = choose_pairs(self.labels, self.label_kind, n, mode, np.random.default_rng(self.seed))
        asked = 2 * n if self.label_kind == "object" else n
        if len(pairs) < asked:
            if self.label_kind == "object":  # n of one object and n of two objects
                kinds = [(f"{available_pairs(self.labels, 'class', m)} {m}", m) for m in ("same_class", "cross_class")]
                offered, wanted = " and ".join(text for text, _ in kinds), f"{n} same_class and {n} cross_class"
            else:
                offered, wanted = f"{available_pairs(self.labels, self.label_kind, mode)}", f"{n} {mode}"
            self.log(f"paths.pairs: asked for {wanted} pairs, the test split's {len(self.labels)} examples offer "
                     f"{offered} distinct ones: taking {len(pairs)}")
        return pairs

    def pair_columns(self, pairs: np.ndarray, steps: int) -> dict[str, np.ndarray]:
        """Endpoint provenance per point: dataset indices and labels of each pair's ends."""
        return {
            "pair": np.repeat(np.arange(len(pairs)), steps),
            "index_a": np.repeat(self.index[pairs[:, 0]], steps),
            "index_b": np.repeat(self.index[pairs[:, 1]], steps),
            "label_a": np.repeat(self.labels[pairs[:, 0]], steps),
            "label_b": np.repeat(self.labels[pairs[:, 1]], steps),
        }


def read_run_latents(run: str, latents: PathLike, seed: int, log: Log = quiet) -> RunLatents:
    """The encoded test split of ``run``'s latent table."""
    table, meta = read_latents(latents)
    test = table[table["split"].astype(str) == "test"]
    return RunLatents(
        run=run,
        mu=latent_matrix(test).astype(np.float64),
        labels=test["label"].to_numpy(),
        index=test["index"].to_numpy(),
        label_kind=meta.get("label_kind", "class"),
        dim=int(meta["latent_dim"]),
        variational=bool(meta.get("variational", False)),
        seed=seed,
        log=log,
    )


# --------------------------------------------------------------------------- one function per method

#: A path method: the run's latents and the method's settings -> its points.
MethodFunction = Callable[[RunLatents, Mapping[str, Any]], PathSet]


def _pair_walk(make: Callable[..., PathSet], run: RunLatents, params: Mapping[str, Any], **kwargs: Any) -> PathSet:
    pairs = run.pairs(params["pairs"]["n"], params["pairs"]["mode"])
    result = make(run.mu[pairs[:, 0]], run.mu[pairs[:, 1]], params["steps"], **kwargs)
    result.columns.update(run.pair_columns(pairs, params["steps"]))
    return result


def _lerp(run: RunLatents, params: Mapping[str, Any]) -> PathSet:
    return _pair_walk(interpolate.lerp, run, params)


def _slerp(run: RunLatents, params: Mapping[str, Any]) -> PathSet:
    return _pair_walk(interpolate.slerp, run, params, normalize=params["normalize"])


def _lerp_matched(run: RunLatents, params: Mapping[str, Any]) -> PathSet:
    return _pair_walk(interpolate.lerp_matched, run, params)


def _prior_pairs(run: RunLatents, params: Mapping[str, Any]) -> PathSet:
    return interpolate.prior_pairs(params["n"], run.dim, params["steps"], run.rng("prior_pairs"), params["variants"])


def _traverse_axis(run: RunLatents, params: Mapping[str, Any]) -> PathSet:
    starts = {
        "origin": lambda: np.zeros(run.dim),
        "mean": lambda: run.mu.mean(axis=0),
        "example": lambda: run.mu[int(run.rng("traverse_axis").integers(len(run.mu)))],
    }
    dims = params["dims"]
    if dims is None:
        dims = np.argsort(-run.mu.var(axis=0), kind="stable")[: params["max_dims"]].tolist()
    return traverse.traverse_axis(starts[params["start"]](), dims, params["range"], params["steps"])


def _traverse_pca(run: RunLatents, params: Mapping[str, Any]) -> PathSet:
    return traverse.traverse_pca(run.mu, params["components"], params["range"], params["steps"])


def _attribute(run: RunLatents, params: Mapping[str, Any]) -> PathSet:
    if run.label_kind != "class":
        raise LatentwalkError("attribute walks need class labels; this dataset is labelled by angle")
    rng = run.rng("attribute")
    alphas = np.linspace(params["alpha"][0], params["alpha"][1], params["steps"])
    parts = []
    present = set(np.unique(run.labels).tolist())
    pairs = [(a, b) for a, b in params["class_pairs"] if {a, b} <= present]  # the pairs of this dataset's classes
    if not pairs:
        missing = sorted({c for pair in params["class_pairs"] for c in pair} - present)
        raise LatentwalkError(f"paths.attribute.class_pairs: no pair is two of the classes of the encoded test examples "
                              f"{sorted(present)} (class {missing[0]} has none)")
    if len(pairs) < len(params["class_pairs"]):
        run.log(f"attribute: {len(pairs)} of {len(params['class_pairs'])} class pairs are two of this dataset's classes")
    for class_a, class_b in pairs:
        rows = np.flatnonzero(run.labels == class_b)
        chosen = np.sort(rng.choice(rows, size=min(params["starts"], rows.size), replace=False))
        part = traverse.attribute(run.mu, run.labels, class_a, class_b, run.mu[chosen], alphas)
        part.columns["index_start"] = np.repeat(run.index[chosen], params["steps"])
        parts.append(part)
    return concat(parts)


def _grid(run: RunLatents, params: Mapping[str, Any]) -> PathSet:
    coordinates = params["coordinates"]
    if coordinates == "auto":
        coordinates = "latent" if run.dim == 2 and run.variational else "pca"
    if coordinates == "latent" and run.dim != 2:
        raise LatentwalkError(f"paths.grid.coordinates 'latent' needs d = 2, this run has d = {run.dim}")
    result = traverse.grid(params["n"], params["extent"], coordinates, run.mu)
    result.columns["coordinates"] = np.full(len(result.z), coordinates)
    return result


def _spiral(run: RunLatents, params: Mapping[str, Any]) -> PathSet:
    if run.dim != 2:
        raise LatentwalkError(f"spiral walks need d = 2, this run has d = {run.dim}")
    return traverse.spiral(params["steps"])


def _sphere_spiral(run: RunLatents, params: Mapping[str, Any]) -> PathSet:
    return traverse.sphere_spiral(run.dim, params["steps"], params["loops"], params["radius"])


#: Path method -> the function computing its points from the latents: every method of the registry but the ones that
#: need the decoder (``needs_decoder``, :data:`latentwalk.walks.geodesic.DECODER_METHODS`).
PATH_METHODS: dict[str, MethodFunction] = {
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
}


def method_settings(method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    """A method's settings from its rule's params: its config section (``params[method]``, config ``paths.<method>``)
    and, for the interpolations between encoded pairs, how the pairs are chosen (``params["pairs"]``)."""
    if params.get(method) is None:
        raise LatentwalkError(f"no settings for path method {method!r} (config paths.{method})")
    settings = dict(params[method])
    if METHODS[method].family == "interpolation":
        settings["pairs"] = dict(params["pairs"])
    return settings


def write_method_table(method: str, make: MethodFunction, latent: RunLatents, settings: Mapping[str, Any],
                       target: Path, latents_sha: str) -> None:
    """Compute one method's points with ``make`` and write them as a Parquet table (column ``method`` first), its
    metadata recording the run, the settings, the seed and the latent table's SHA-256."""
    start = time.perf_counter()
    table = make(latent, settings).columns_table()
    table = {"method": np.full(len(table["norm"]), method, dtype=object), **table}
    write_parquet(table, target, {"run": latent.run, "method": method, "latent_dim": latent.dim, "params": dict(settings),
                                  "seed": latent.seed, "latents_sha256": latents_sha})
    norm = table["norm"]
    latent.log(f"{method}: {len(np.unique(table['path_id'])) if 'path_id' in table else 1} paths, {len(norm)} points "
               f"in {latent.dim}-D; norm min {norm.min():.4f} mean {norm.mean():.4f} max {norm.max():.4f} "
               f"({time.perf_counter() - start:.2f}s)")


def generate_paths(
    run: str,
    methods: Sequence[str],
    latents: PathLike,
    params: Mapping[str, Any],
    out_dir: PathLike,
    made: PathLike | None = None,
    log: Log = quiet,
) -> None:
    """Write ``out_dir/{method}.parquet`` for every method of one run (the directory appears whole or not at all).

    ``params`` are rule generate_paths' params: ``seed``, ``pairs`` and each method's config section under its
    name (:func:`method_settings`). The methods that need the decoder must already have their table in the
    directory ``made`` (rule decoder_paths makes them in a job of their own, so that a change to another method
    never reruns them): those are copied byte for byte, after checking that they were made from the same latents.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise LatentwalkError(f"unknown path method {unknown[0]!r}; allowed: {', '.join(METHODS)}")
    made_files = {p.stem: p for p in Path(made).glob("*.parquet")} if made is not None else {}
    missing = [m for m in methods if m not in PATH_METHODS and m not in made_files]
    if missing:
        raise LatentwalkError(f"{run}: no table made for path method(s) {', '.join(missing)}; run rule decoder_paths")
    latent = read_run_latents(run, latents, int(params["seed"]), log)
    latents_sha = sha256_file(latents)
    with atomic_dir(out_dir) as tmp:
        for method in methods:
            target = Path(tmp, f"{method}.parquet")
            if method in PATH_METHODS:
                write_method_table(method, PATH_METHODS[method], latent, method_settings(method, params), target, latents_sha)
            else:
                _take_made(made_files[method], target, latents_sha, log)


def _take_made(source: Path, target: Path, latents_sha: str, log: Log) -> None:
    """Copy a path table made by another job into this run's directory, refusing one made from other latents."""
    frame, meta = read_parquet(source)
    if meta.get("latents_sha256") != latents_sha:
        raise LatentwalkError(f"{source}: made from latents {str(meta.get('latents_sha256'))[:12]}, not from this "
                              f"run's {latents_sha[:12]}; rerun its job")
    shutil.copyfile(source, target)
    log(f"{meta.get('method', source.stem)}: {len(np.unique(frame['path_id']))} paths, {len(frame['path_id'])} points, "
        f"taken from {source}")
