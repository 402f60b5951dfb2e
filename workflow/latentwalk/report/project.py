"""Rule project: what a run's explorer page embeds that needs the model (torch).

The encoded test points in the plane, and the decoder exported as the page runs it (:func:`decoder_layers`; its
forward pass in numpy, the specification the page's JavaScript follows: :func:`decode_layers`), with torch's own
decodings of probe latents for the page's self-test. Rule explorer (:mod:`latentwalk.report.explorer`, numpy only)
assembles the page from these and the run's paths, so a path setting rebuilds the page without loading torch.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from torch import nn

from latentwalk.core.io import LatentwalkError, PathLike, provenance, write_json, write_parquet
from latentwalk.core.latents import latent_matrix, read_latents
from latentwalk.core.logs import Log, quiet
from latentwalk.model.checkpoint import load_run_model
from latentwalk.model.networks import LatentAutoencoder, use_threads
from latentwalk.report.explorer import TOLERANCE, decode_f32, encode_f32
from latentwalk.report.graph_layers import Unsupported, external_layers
from latentwalk.walks.projection import embed, pca, subsample

__all__ = ["PREDECODED_BYTES", "PREDECODED_GRID", "project", "page_layers", "plane_grid", "export_decoder", "decoder_layers",
           "decode_layers"]


#: At most this many bytes of pre-decoded images (uint8) in a page whose decoder the page cannot run.
PREDECODED_BYTES = 6_000_000
#: The side of the grid of latents pre-decoded over the plane for such a page.
PREDECODED_GRID = 24


def project(run: str, inputs: Mapping[str, PathLike], settings: Mapping[str, Any], out: Mapping[str, PathLike],
            log: Log = quiet, threads: int = 1) -> None:
    """The run's encoded test means (a seeded subsample of at most ``settings['max_points']``) in the plane, by
    ``settings['method']``, and its decoder for the page; ``inputs`` names the run's ``latents``, ``meta`` and
    ``model`` (or an external model's ``encoder`` and ``decoder``), ``settings`` also holds the ``seed`` and
    ``selftest_frames``.

    ``out['projection']`` (Parquet) has one row per point: ``index`` (dataset row), ``label``, ``x``, ``y`` (the projection; the
    latents themselves for d <= 2), the latent ``mu_*`` and, for d >= 3, ``pc_0..pc_2`` (top three principal
    components, for the 3-D view). Its metadata holds the PCA basis (mean, components, variance ratios), which maps
    plane points back to latents. ``out['decoder']`` is :func:`export_decoder`'s JSON, probed at these points. A
    decoder the page cannot run (:func:`page_layers`) gets its images pre-decoded, at fewer points where they would
    exceed :data:`PREDECODED_BYTES`. Torch runs on ``threads`` threads.
    """
    latents, method, max_points, seed = inputs["latents"], settings["method"], int(settings["max_points"]), int(settings["seed"])

    start = time.perf_counter()
    use_threads(threads)
    model, spec = load_run_model(inputs)  # checks the model files first
    layers, reason = page_layers(model, spec)
    if reason is not None:
        max_points = min(max_points, max(10, PREDECODED_BYTES // int(np.prod(spec.image_shape))))
        log(f"{run}: the page cannot run this decoder ({reason}); images pre-decoded at up to {max_points} points")
    table, meta = read_latents(latents)
    test = table[table["split"].astype(str) == "test"]
    if test.empty:
        raise LatentwalkError(f"{latents}: no test rows to project")
    test = test.iloc[subsample(len(test), max_points, seed)]
    mu = latent_matrix(test).astype(np.float64)
    d = mu.shape[1]
    if d != spec.latent_dim:
        raise LatentwalkError(f"{latents}: {d}-D latents, but the run's model has latent dim {spec.latent_dim}")
    xy = embed(mu, method, seed)
    table = {"index": test["index"].to_numpy(), "label": test["label"].to_numpy(), "x": xy[:, 0], "y": xy[:, 1],
             **{f"mu_{i}": mu[:, i] for i in range(d)}}
    basis = pca(mu, min(3, d))
    if d >= 3:
        for k, column in enumerate(basis.transform(mu).T):
            table[f"pc_{k}"] = column
    shown = method if d > 2 else "latent"
    record = provenance(stage="project", config={"run": run, "method": shown, "max_points": max_points},
                        inputs=[str(latents)], seed=seed,
                        extra={"latent_dim": d, "label_kind": meta.get("label_kind", "class"), "label_names": meta.get("label_names"),
                               "variational": meta.get("variational", False),
                               "pca": {"mean": basis.mean.tolist(), "components": basis.components.tolist(),
                                       "variance_ratio": basis.variance_ratio.tolist()}})
    predecode = None if reason is None else np.vstack([mu, plane_grid(mu, xy, basis, shown)])
    export_decoder(run, (model, spec, layers, reason), inputs, mu, predecode, int(settings["selftest_frames"]), out["decoder"], log)
    write_parquet(table, out["projection"], record)
    log(f"{run}: {len(mu)} test points projected by {shown} in {time.perf_counter() - start:.1f}s")


def page_layers(model: Any, spec: Any) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The run's decoder as the page's layers (:func:`decoder_layers`, or for an external model
    :func:`~latentwalk.report.graph_layers.external_layers`), checked against torch on random latents; or None and
    the reason the page cannot run it."""
    try:
        layers = decoder_layers(model) if isinstance(model, LatentAutoencoder) else external_layers(model.decoder, spec.latent_dim)
    except (Unsupported, ValueError) as exc:
        return None, str(exc)
    probe = np.random.default_rng(0).standard_normal((2, spec.latent_dim))
    with torch.inference_mode():
        reference = model.decode(torch.as_tensor(probe, dtype=torch.float32)).cpu().numpy().reshape(len(probe), -1)
    mine = np.stack([decode_layers(layers, z) for z in probe])
    if mine.shape != reference.shape or not np.abs(mine - reference).max() <= TOLERANCE:
        return None, "its layers read from the file do not reproduce its output"
    return layers, None


def plane_grid(mu: np.ndarray, xy: np.ndarray, basis: Any, method: str) -> np.ndarray:
    """Latents on a :data:`PREDECODED_GRID`-square grid over the points' extent in the plane (15% margin): the latent
    plane itself for d <= 2, the top-2 PCA plane through the mean; none for t-SNE and UMAP (the page decodes the
    nearest point there)."""
    d = mu.shape[1]
    if method not in ("latent", "pca"):
        return np.zeros((0, d))
    low, high = xy.min(axis=0), xy.max(axis=0)
    pad = 0.15 * np.maximum(high - low, 1e-6)
    gx, gy = (np.linspace(low[k] - pad[k], high[k] + pad[k], PREDECODED_GRID) for k in (0, 1))
    plane = np.array([(x, y) for y in gy for x in gx])
    if d <= 2:
        return plane[:, :d]
    return basis.mean + plane @ basis.components[:2]


def export_decoder(run: str, decoder: tuple[Any, Any, list[dict[str, Any]] | None, str | None], inputs: Mapping[str, PathLike],
                   mu: np.ndarray, predecode: np.ndarray | None, selftest_frames: int, out_json: PathLike, log: Log = quiet) -> None:
    """Write the run's decoder as the explorer page runs it, with torch's decodings of probe latents, as JSON.

    ``decoder`` is the run's model and spec with :func:`page_layers`' result. Keys: ``kind``, ``variational``, ``image``
    (C, H, W), ``latent_dim``, ``decoder`` (the layers, or None where the page cannot run them), ``fallback`` (why
    not, or None), ``predecoded`` (where it cannot: the latents ``predecode`` with their images, uint8 channel-major,
    base64), ``provenance`` and ``selftest``: ``k`` probes ``z`` (``selftest_frames`` of the latents ``mu``, seeded,
    and two off-data latents) with the ``images`` torch decodes from them (base64 float32), which the page compares
    its own decoding with.
    """
    model, spec, layers, reason = decoder
    d = mu.shape[1]
    rng = np.random.default_rng(0)
    picks = np.sort(rng.choice(len(mu), size=min(selftest_frames, len(mu)), replace=False))
    probe = np.vstack([mu[picks], rng.standard_normal((2, d)) * 1.5])  # encoded points and two off-data latents
    reference = _decode(model, probe).reshape(len(probe), -1)
    predecoded = None
    if predecode is not None:
        pixels = np.rint(_decode(model, predecode).reshape(len(predecode), -1) * 255).clip(0, 255).astype(np.uint8)
        predecoded = {"k": len(predecode), "z": encode_f32(predecode), "images": base64.b64encode(pixels.tobytes()).decode("ascii")}
    files = [str(inputs[key]) for key in ("model", "encoder", "decoder", "meta", "latents") if key in inputs]
    record = provenance(stage="export_decoder", config={"run": run, "selftest_frames": selftest_frames}, inputs=files, seed=0)
    write_json(out_json, {"run": run, "kind": spec.kind, "variational": spec.variational, "image": list(spec.image_shape),
                          "latent_dim": d, "decoder": layers, "fallback": reason, "predecoded": predecoded,
                          "selftest": {"k": len(probe), "z": encode_f32(probe), "images": encode_f32(reference)},
                          "provenance": record})
    how = f"{len(layers)} layers exported" if layers is not None else f"images pre-decoded at {len(predecode)} latents"
    log(f"{run}: decoder {how}, {len(probe)} self-test probes")


def _decode(model: Any, z: np.ndarray, batch: int = 1024) -> np.ndarray:
    """Decoded images ``(N, C, H, W)`` as float32 numpy, in batches."""
    with torch.inference_mode():
        return np.concatenate([model.decode(torch.as_tensor(z[i : i + batch], dtype=torch.float32)).cpu().numpy()
                               for i in range(0, len(z), batch)]) if len(z) else np.zeros((0,), np.float32)


def decoder_layers(model: Any) -> list[dict[str, Any]]:
    """The decoder of a :class:`~latentwalk.model.networks.LatentAutoencoder` as JSON-ready layers, in the order they run.

    ``linear`` (``w`` is ``(out, in)`` row-major), ``relu``, ``leaky`` (with ``slope``), ``reshape`` (to
    ``(c, h, w)``), ``convT`` (ConvTranspose2d: ``w`` is ``(cin, cout, k, k)``, with ``stride`` and ``pad``),
    ``conv`` (a stride-1 'same' Conv2d: ``w`` is ``(cout, cin, k, k)``), ``upsample2`` (nearest, 2x), ``sigmoid`` and
    ``clamp`` (with ``min`` and ``max``). The pixel logits that come out of the model's decoder go through a final
    ``sigmoid`` layer. Flatten layers change no values and are left out.
    """

    layers: list[dict[str, Any]] = []
    for module in model.decoder.modules():
        if isinstance(module, nn.Linear):
            layers.append({"op": "linear", "in": module.in_features, "out": module.out_features,
                           "w": encode_f32(module.weight.detach().cpu().numpy()), "b": encode_f32(module.bias.detach().cpu().numpy())})
        elif isinstance(module, nn.ReLU):
            layers.append({"op": "relu"})
        elif isinstance(module, nn.Unflatten):
            if module.dim != 1:
                raise ValueError(f"cannot export Unflatten over dim {module.dim}")
            layers.append({"op": "reshape", "shape": [int(v) for v in module.unflattened_size]})
        elif isinstance(module, nn.ConvTranspose2d):
            if module.kernel_size[0] != module.kernel_size[1] or module.stride[0] != module.stride[1] or module.padding[0] != module.padding[1]:
                raise ValueError("only square kernels, strides and paddings are exported")
            layers.append({"op": "convT", "cin": module.in_channels, "cout": module.out_channels, "k": module.kernel_size[0],
                           "stride": module.stride[0], "pad": module.padding[0],
                           "w": encode_f32(module.weight.detach().cpu().numpy()), "b": encode_f32(module.bias.detach().cpu().numpy())})
        elif isinstance(module, nn.Conv2d):
            if (module.stride != (1, 1) or module.kernel_size[0] != module.kernel_size[1]
                    or module.padding != (module.kernel_size[0] // 2,) * 2 or module.groups != 1 or module.dilation != (1, 1)):
                raise ValueError("only square, stride-1, 'same'-padded convolutions are exported")
            layers.append({"op": "conv", "cin": module.in_channels, "cout": module.out_channels, "k": module.kernel_size[0],
                           "w": encode_f32(module.weight.detach().cpu().numpy()), "b": encode_f32(module.bias.detach().cpu().numpy())})
        elif isinstance(module, nn.LeakyReLU):
            layers.append({"op": "leaky", "slope": float(module.negative_slope)})
        elif isinstance(module, nn.Upsample):
            if module.mode != "nearest" or module.scale_factor not in (2, 2.0):
                raise ValueError("only 2x nearest-neighbour upsampling is exported")
            layers.append({"op": "upsample2"})
        elif isinstance(module, nn.Sequential | nn.Flatten):
            continue
        else:
            raise ValueError(f"cannot export decoder layer {type(module).__name__}")
    return [*layers, {"op": "sigmoid"}]


def decode_layers(layers: list[dict[str, Any]], z: np.ndarray) -> np.ndarray:
    """Run exported ``layers`` on one latent ``z`` ``(d,)`` in float64 and return the pixels (flat)."""
    x = np.asarray(z, dtype=np.float64)
    shape: list[int] = [x.size]
    for layer in layers:
        op = layer["op"]
        if op == "linear":
            w = decode_f32(layer["w"]).astype(np.float64).reshape(layer["out"], layer["in"])
            x = w @ x.reshape(-1) + decode_f32(layer["b"])
            shape = [layer["out"]]
        elif op == "relu":
            x = np.maximum(x, 0.0)
        elif op == "leaky":
            x = np.where(x < 0, x * layer["slope"], x)
        elif op == "sigmoid":
            x = 1.0 / (1.0 + np.exp(-x))
        elif op == "clamp":
            x = np.clip(x, layer["min"], layer["max"])
        elif op == "upsample2":
            x = x.reshape(shape).repeat(2, axis=1).repeat(2, axis=2)
            shape = [shape[0], shape[1] * 2, shape[2] * 2]
        elif op == "conv":
            cin, cout, k = layer["cin"], layer["cout"], layer["k"]
            w = decode_f32(layer["w"]).astype(np.float64).reshape(cout, cin, k, k)
            h, wd, p = shape[1], shape[2], k // 2
            padded = np.zeros((cin, h + 2 * p, wd + 2 * p))
            padded[:, p : p + h, p : p + wd] = x.reshape(cin, h, wd)
            out = np.zeros((cout, h, wd)) + decode_f32(layer["b"])[:, None, None]
            for ky in range(k):
                for kx in range(k):
                    out += np.einsum("chw,oc->ohw", padded[:, ky : ky + h, kx : kx + wd], w[:, :, ky, kx])
            x, shape = out, [cout, h, wd]
        elif op == "reshape":
            shape = list(layer["shape"])
            x = x.reshape(shape)
        elif op == "convT":
            cin, cout, k, s, p = layer["cin"], layer["cout"], layer["k"], layer["stride"], layer["pad"]
            w = decode_f32(layer["w"]).astype(np.float64).reshape(cin, cout, k, k)
            h, wd = shape[1], shape[2]
            ho, wo = (h - 1) * s - 2 * p + k, (wd - 1) * s - 2 * p + k
            full = np.zeros((cout, (h - 1) * s + k, (wd - 1) * s + k))
            x = x.reshape(cin, h, wd)
            for ky in range(k):
                for kx in range(k):
                    full[:, ky : ky + (h - 1) * s + 1 : s, kx : kx + (wd - 1) * s + 1 : s] += np.einsum("chw,co->ohw", x, w[:, :, ky, kx])
            x = full[:, p : p + ho, p : p + wo] + decode_f32(layer["b"])[:, None, None]
            shape = [cout, ho, wo]
        else:
            raise ValueError(f"unknown layer op {op!r}")
    return x.reshape(-1)
