"""Stage generate_paths: the latent points of one path method for one run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..io import LatentwalkError, PathLike, read_json, sha256_file
from ..logs import Log, quiet


def _pair_columns(index: Any, labels: Any, pairs: Any, steps: int) -> dict[str, Any]:
    """Endpoint provenance per point: dataset indices and labels of each pair's ends."""
    import numpy as np

    return {
        "pair": np.repeat(np.arange(len(pairs)), steps),
        "index_a": np.repeat(index[pairs[:, 0]], steps),
        "index_b": np.repeat(index[pairs[:, 1]], steps),
        "label_a": np.repeat(labels[pairs[:, 0]], steps),
        "label_b": np.repeat(labels[pairs[:, 1]], steps),
    }


def generate_paths(
    method: str,
    latents: PathLike,
    params: Mapping[str, Any],
    seed: int,
    out_parquet: PathLike,
    model_pt: PathLike | None = None,
    meta_json: PathLike | None = None,
    device: str = "cpu",
    log: Log = quiet,
) -> None:
    """Compute the latent points of ``method`` for one run and write ``paths/.../{method}.parquet``.

    Endpoints and starting points come from the encoded test split. Pairs are
    drawn from a generator seeded by ``seed`` alone, so lerp, slerp,
    lerp_matched and geodesic of one run share their endpoint pairs.
    """
    import zlib

    import numpy as np

    from .. import paths as P
    from ..encoding import latent_matrix, read_latents
    from ..io import write_parquet

    table, meta = read_latents(latents)
    dim = int(meta["latent_dim"])
    label_kind = meta.get("label_kind", "class")
    test = table[table["split"] == "test"].reset_index(drop=True)
    mu = latent_matrix(test).astype(np.float64)
    labels = test["label"].to_numpy()
    index = test["index"].to_numpy()
    method_rng = np.random.default_rng([seed, zlib.crc32(method.encode())])

    def pairs_of(n: int) -> Any:
        pairs_cfg = params["pairs"]
        return P.choose_pairs(labels, label_kind, n, pairs_cfg["mode"], np.random.default_rng(seed))

    history: list[dict[str, float]] = []
    if method in ("lerp", "slerp", "lerp_matched"):
        pairs = pairs_of(params["pairs"]["n"])
        za, zb = mu[pairs[:, 0]], mu[pairs[:, 1]]
        if method == "slerp":
            result = P.slerp(za, zb, params["steps"], params["normalize"])
        else:
            result = getattr(P, method)(za, zb, params["steps"])
        result.columns.update(_pair_columns(index, labels, pairs, params["steps"]))
    elif method == "geodesic":
        import torch

        from ..models import ModelSpec
        from ..training import load_model, resolve_device

        if model_pt is None or meta_json is None:
            raise LatentwalkError("geodesic paths need the run's model.pt and meta.json")
        run_meta = read_json(meta_json)
        spec = ModelSpec.from_dict(run_meta["config"]["model"])
        torch_device = resolve_device(device)
        torch.manual_seed(seed)
        model = load_model(model_pt, spec, torch_device)
        for parameter in model.parameters():
            parameter.requires_grad_(False)
        pairs = pairs_of(params["pairs"]["n"])[: params["n_pairs"]]
        result, history = P.geodesic(
            lambda z: model.decode(z.to(torch_device)).cpu(),
            mu[pairs[:, 0]],
            mu[pairs[:, 1]],
            params["steps"],
            params["iterations"],
            params["learning_rate"],
            params["tolerance"],
        )
        result.columns.update(_pair_columns(index, labels, pairs, params["steps"]))
        for row in history:
            log(f"iteration {row['iteration']:5d}  mean path energy {row['energy']:.6f}")
    elif method == "prior_pairs":
        result = P.prior_pairs(params["n"], dim, params["steps"], method_rng, params["variants"])
    elif method == "traverse_axis":
        if params["start"] == "origin":
            start = np.zeros(dim)
        elif params["start"] == "mean":
            start = mu.mean(axis=0)
        else:
            start = mu[int(method_rng.integers(len(mu)))]
        dims = params["dims"]
        if dims is None:
            dims = np.argsort(-mu.var(axis=0), kind="stable")[: params["max_dims"]].tolist()
        result = P.traverse_axis(start, dims, params["range"], params["steps"])
    elif method == "traverse_pca":
        result = P.traverse_pca(mu, params["components"], params["range"], params["steps"])
    elif method == "attribute":
        if label_kind != "class":
            raise LatentwalkError("attribute walks need class labels; this dataset is labelled by angle")
        alphas = np.linspace(params["alpha"][0], params["alpha"][1], params["steps"])
        parts = []
        for class_a, class_b in params["class_pairs"]:
            rows = np.flatnonzero(labels == class_b)
            if rows.size == 0:
                raise LatentwalkError(f"paths.attribute.class_pairs: class {class_b} has no encoded test examples")
            chosen = np.sort(method_rng.choice(rows, size=min(params["starts"], rows.size), replace=False))
            part = P.attribute(mu, labels, class_a, class_b, mu[chosen], alphas)
            part.columns["index_start"] = np.repeat(index[chosen], params["steps"])
            parts.append(part)
        result = P.concat(parts)
    elif method == "grid":
        coordinates = params["coordinates"]
        if coordinates == "auto":
            coordinates = "latent" if dim == 2 and meta.get("variational") else "pca"
        if coordinates == "latent" and dim != 2:
            raise LatentwalkError(f"paths.grid.coordinates 'latent' needs d = 2, this run has d = {dim}")
        result = P.grid(params["n"], params["extent"], coordinates, mu)
        result.columns["coordinates"] = np.full(len(result.z), coordinates)
    elif method == "spiral":
        if dim != 2:
            raise LatentwalkError(f"spiral walks need d = 2, this run has d = {dim}")
        result = P.spiral(params["steps"])
    elif method == "sphere_spiral":
        result = P.sphere_spiral(dim, params["steps"], params["loops"], params["radius"])
    else:
        raise LatentwalkError(f"unknown path method {method!r}")

    frame = result.table()
    frame.insert(0, "method", method)
    write_parquet(
        frame,
        out_parquet,
        {"run": meta.get("run"), "method": method, "latent_dim": dim, "params": dict(params), "seed": seed,
         "latents_sha256": sha256_file(latents)},
    )
    log(f"{method}: {result.n_paths} paths, {len(frame)} points in {dim}-D; "
        f"norm min {frame['norm'].min():.4f} mean {frame['norm'].mean():.4f} max {frame['norm'].max():.4f}")
