"""Stages project and explorer: what a run's explorer page embeds, and the page.

``project`` (torch) prepares everything that needs the model: the encoded test points in the plane, and the
decoder exported as the page runs it, with torch's own decodings of probe latents for the page's self-test.
``explorer`` (numpy only) assembles the page from those and the run's paths, so a path setting rebuilds the page
without loading torch or the model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io import LatentwalkError, PathLike, atomic_path, method_files, provenance, read_parquet_columns, write_parquet
from ..logs import Log, quiet
from ..registry import VIEW_OBJECTS

#: Path methods drawn over the explorer's scatter, and at most this many paths of each.
OVERLAY_PATHS = 6


def project(run: str, latents: PathLike, model_pt: PathLike, meta_json: PathLike, method: str, max_points: int, seed: int,
            selftest_frames: int, out_parquet: PathLike, out_decoder: PathLike, log: Log = quiet) -> None:
    """The run's encoded test means (a seeded subsample of at most ``max_points``) in the plane, by ``method``, and
    its decoder for the page.

    ``out_parquet`` has one row per point: ``index`` (dataset row), ``label``, ``x``, ``y`` (the projection; the
    latents themselves for d <= 2), the latent ``mu_*`` and, for d >= 3, ``pc_0..pc_2`` (top three principal
    components, for the 3-D view). Its metadata holds the PCA basis (mean, components, variance ratios), which maps
    plane points back to latents. ``out_decoder`` is :func:`export_decoder`'s JSON, probed at these points.
    """
    from ..columns import n_rows, take
    from ..encoding import latent_matrix, read_latent_columns
    from ..projection import embed, pca, subsample

    start = time.perf_counter()
    table, meta = read_latent_columns(latents)
    test = take(table, np.asarray(table["split"]).astype(str) == "test")
    if n_rows(test) == 0:
        raise LatentwalkError(f"{latents}: no test rows to project")
    test = take(test, subsample(n_rows(test), max_points, seed))
    mu = latent_matrix(test).astype(np.float64)
    d = mu.shape[1]
    xy = embed(mu, method, seed)
    out = {"index": test["index"], "label": test["label"], "x": xy[:, 0], "y": xy[:, 1],
           **{f"mu_{i}": mu[:, i] for i in range(d)}}
    basis = pca(mu, min(3, d))
    if d >= 3:
        for k, column in enumerate(basis.transform(mu).T):
            out[f"pc_{k}"] = column
    record = provenance(stage="project", config={"run": run, "method": method if d > 2 else "latent", "max_points": max_points},
                        inputs=[str(latents)], seed=seed,
                        extra={"latent_dim": d, "label_kind": meta.get("label_kind", "class"), "variational": meta.get("variational", False),
                               "pca": {"mean": basis.mean.tolist(), "components": basis.components.tolist(),
                                       "variance_ratio": basis.variance_ratio.tolist()}})
    export_decoder(run, model_pt, meta_json, mu, latents, selftest_frames, out_decoder, log)  # checks the model first
    write_parquet(out, out_parquet, record)
    log(f"{run}: {len(mu)} test points projected by {record['config']['method']} in {time.perf_counter() - start:.1f}s")


def export_decoder(run: str, model_pt: PathLike, meta_json: PathLike, mu: np.ndarray, mu_source: PathLike,
                   selftest_frames: int, out_json: PathLike, log: Log = quiet) -> None:
    """Write the run's decoder as the explorer page runs it, with torch's decodings of probe latents, as JSON.

    Keys: ``kind``, ``variational``, ``image`` (H, W), ``latent_dim``, ``decoder``
    (:func:`latentwalk.explorer.decoder_layers`), ``provenance`` and ``selftest``: ``k`` probes ``z``
    (``selftest_frames`` of the latents ``mu``, read from ``mu_source``, seeded, and two off-data latents) with the
    ``images`` torch decodes from them (base64 float32), which the page compares its own decoding with.
    """
    import torch

    from ..explorer import decoder_layers, encode_f32
    from ..io import write_json
    from ..training import load_run_model

    model, spec = load_run_model(model_pt, meta_json)
    d = mu.shape[1]
    if d != spec.latent_dim:
        raise LatentwalkError(f"{model_pt}: a latent dim {spec.latent_dim} model, but the latents to probe it are {d}-D")
    rng = np.random.default_rng(0)
    picks = np.sort(rng.choice(len(mu), size=min(selftest_frames, len(mu)), replace=False))
    probe = np.vstack([mu[picks], rng.standard_normal((2, d)) * 1.5])  # encoded points and two off-data latents
    with torch.inference_mode():
        reference = model.decode(torch.as_tensor(probe, dtype=torch.float32)).numpy().reshape(len(probe), -1)
    layers = decoder_layers(model)
    record = provenance(stage="export_decoder", config={"run": run, "selftest_frames": selftest_frames},
                        inputs=[str(model_pt), str(meta_json), str(mu_source)], seed=0)
    write_json(out_json, {"run": run, "kind": spec.kind, "variational": spec.variational, "image": list(spec.image_shape),
                          "latent_dim": d, "decoder": layers,
                          "selftest": {"k": len(probe), "z": encode_f32(probe), "images": encode_f32(reference)},
                          "provenance": record})
    log(f"{run}: decoder of {len(layers)} layers exported, {len(probe)} self-test probes")


def _overlays(run_mu: np.ndarray, xy: np.ndarray, pca_basis: dict[str, Any], method: str, paths_dir: PathLike,
              methods: Sequence[str]) -> list[dict[str, Any]]:
    """Paths to draw over the scatter: up to :data:`OVERLAY_PATHS` of each method, with latents and plane points."""
    from ..columns import notna, sorted_by, take
    from ..explorer import encode_f32
    from ..projection import place_by_neighbours

    out = []
    d = run_mu.shape[1]
    for path in method_files(paths_dir, methods, ".parquet", exact=False):
        frame, _ = read_parquet_columns(path)
        frame = sorted_by(frame, ["path_id", "step"])
        z_cols = [f"z_{i}" for i in range(d)]
        if any(c not in frame for c in z_cols):
            raise LatentwalkError(f"{path}: paths are not {d}-D")
        name = Path(path).stem
        for path_id in np.unique(frame["path_id"])[:OVERLAY_PATHS]:
            rows = take(frame, frame["path_id"] == path_id)
            z = _matrix(rows, z_cols)
            if d <= 2:
                plane = np.column_stack([z[:, 0], z[:, 1] if d == 2 else np.zeros(len(z))])
            elif method == "pca":
                plane = (z - np.asarray(pca_basis["mean"])) @ np.asarray(pca_basis["components"])[:2].T
            else:
                plane = place_by_neighbours(run_mu, xy, z)
            label = f"{name} {int(path_id)}"
            if "variant" in rows and notna(rows["variant"]).any():
                label += f" ({rows['variant'][0]})"
            for a, b in (("label_a", "label_b"), ("dim", None), ("component", None)):
                if a in rows and notna(rows[a]).any():
                    label += f": {_text(rows[a][0])}" + (f" → {_text(rows[b][0])}" if b else "")
                    break
            out.append({"method": name, "label": label, "steps": len(z), "z": encode_f32(z), "xy": encode_f32(plane)})
    return out


def _text(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else f"{np.degrees(number):.0f}°"


def build_explorer(
    run: str,
    decoder_json: PathLike,
    projection_parquet: PathLike,
    paths_dir: PathLike,
    methods: Sequence[str],
    max_sliders: int,
    out_html: PathLike,
    log: Log = quiet,
) -> None:
    """Write the run's explorer page (see :mod:`latentwalk.explorer`); numpy only.

    Embeds the projected test points with their latents, the decoder and its self-test probes (both from
    ``decoder_json``, :func:`export_decoder`), and the paths of ``methods`` found in ``paths_dir`` as overlays.
    """
    from ..explorer import encode_f32, render_page
    from ..io import read_json

    start = time.perf_counter()
    decoder = read_json(decoder_json)
    table, meta = read_parquet_columns(projection_parquet)
    d = int(meta.get("latent_dim", -1))
    if d != decoder["latent_dim"]:
        raise LatentwalkError(f"{projection_parquet}: projection of {d}-D latents, but the decoder's latent dim is "
                              f"{decoder['latent_dim']} ({decoder_json})")
    xy = _matrix(table, ["x", "y"])
    mu = _latents_of(table, meta, d)
    method = meta["config"]["method"]
    spread = mu.std(axis=0)
    data: dict[str, Any] = {
        "run": run,
        "dim": d,
        "kind": decoder["kind"],
        "variational": decoder["variational"],
        "label_kind": meta.get("label_kind", "class"),
        "label_names": list(VIEW_OBJECTS) if meta.get("label_kind") == "object" else None,
        "image": decoder["image"],
        "projection": method,
        "points": {"n": len(mu), "xy": encode_f32(xy), "mu": encode_f32(mu), "labels": encode_f32(table["label"]),
                   "index": np.asarray(table["index"]).astype(int).tolist(),
                   "pc3": encode_f32(_matrix(table, ["pc_0", "pc_1", "pc_2"])) if d >= 3 else None},
        "pca": meta["pca"],
        "activity": np.argsort(-spread, kind="stable").tolist(),
        "mean": mu.mean(axis=0).tolist(),
        "std": spread.tolist(),
        "max_sliders": int(max_sliders),
        "decoder": decoder["decoder"],
        "paths": _overlays(mu, xy, meta["pca"], method, paths_dir, methods),
        "selftest": decoder["selftest"],
    }
    html = render_page(data, f"{run}: latent explorer")
    with atomic_path(out_html) as tmp:
        tmp.write_text(html, encoding="utf-8")
    log(f"{run}: explorer with {len(mu)} points, {len(data['paths'])} paths, {len(data['decoder'])} decoder layers; "
        f"{len(html) / 1e6:.2f} MB in {time.perf_counter() - start:.1f}s")


def _latents_of(table: Any, meta: dict[str, Any], d: int) -> np.ndarray:
    """The latents of the projected points, stored with them (``mu_*`` columns)."""
    cols = [f"mu_{i}" for i in range(d)]
    if any(c not in table for c in cols):
        raise LatentwalkError(f"projection table lacks {cols[0]}..{cols[-1]}")
    return _matrix(table, cols)


def _matrix(table: dict[str, np.ndarray], columns: Sequence[str]) -> np.ndarray:
    """The columns as a float64 matrix laid out as pandas' ``DataFrame.to_numpy`` lays it out (column-major), so
    that sums over it, and so the page's numbers, come out to the last bit as they always have."""
    return np.vstack([np.asarray(table[c], dtype=np.float64) for c in columns]).T
