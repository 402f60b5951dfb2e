"""The interactive latent explorer: one self-contained HTML page per run that decodes latents in the browser.

The page carries its data as JSON (the encoded test points and their
projection, the decoder's weights as base64 float32, path overlays, and
reference images decoded by torch for the self-test) and plain JavaScript
(``assets/explorer.js``) that runs the decoder's forward pass itself: no
server, no network, no external script, font or style.

The decoder is exported as a list of layers (:func:`decoder_layers`) in the
order they run; :func:`decode_layers` is the same forward pass in numpy, the
specification the JavaScript follows (tests check it against torch).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["encode_f32", "decode_f32", "decoder_layers", "decode_layers", "render_page", "ASSETS", "SelfTest",
           "find_browser", "page_dom", "page_selftest", "TOLERANCE"]

#: The page's static parts (package data), read by :func:`render_page`.
ASSETS = ("explorer.html", "explorer.css", "explorer.js")


def encode_f32(array: np.ndarray) -> str:
    """``array`` as little-endian float32 bytes, base64 (what the page's ``f32()`` reads back)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def decode_f32(text: str) -> np.ndarray:
    """The inverse of :func:`encode_f32` (a flat float32 array)."""
    return np.frombuffer(base64.b64decode(text), dtype="<f4").copy()


def decoder_layers(model: Any) -> list[dict[str, Any]]:
    """The decoder of a :class:`~latentwalk.models.LatentAutoencoder` as JSON-ready layers, in the order they run.

    ``linear`` (``w`` is ``(out, in)`` row-major), ``relu``, ``leaky`` (with ``slope``), ``reshape`` (to
    ``(c, h, w)``), ``convT`` (ConvTranspose2d: ``w`` is ``(cin, cout, k, k)``, with ``stride`` and ``pad``),
    ``conv`` (a stride-1 'same' Conv2d: ``w`` is ``(cout, cin, k, k)``) and ``upsample2`` (nearest, 2x). The pixel logits that come out
    go through a sigmoid. Flatten layers change no values and are left out.
    """
    from torch import nn

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
    return layers


def decode_layers(layers: list[dict[str, Any]], z: np.ndarray) -> np.ndarray:
    """Run exported ``layers`` on one latent ``z`` ``(d,)`` in float64 and return sigmoid pixels (flat)."""
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
    return 1.0 / (1.0 + np.exp(-x.reshape(-1)))


def render_page(data: dict[str, Any], title: str) -> str:
    """The explorer page: the HTML template with the run's data (JSON), the style and the script inlined."""
    files = resources.files("latentwalk") / "assets"
    template, style, script = ((files / name).read_text(encoding="utf-8") for name in ASSETS)
    payload = json.dumps(data, separators=(",", ":"), sort_keys=True).replace("</", "<\\/")
    parts = {"TITLE": title.replace("&", "&amp;").replace("<", "&lt;"), "STYLE": style, "DATA": payload, "SCRIPT": script}
    return re.sub(r"\{\{(TITLE|STYLE|DATA|SCRIPT)\}\}", lambda m: parts[m.group(1)], template)


#: The largest pixel difference between the page's decoding and torch's that the self-test accepts.
TOLERANCE = 1e-4
#: What ``#selftest-ui`` checks: each interaction changed the decoded image or the view (1), or not (0).
UI_CHECKS = ("pointer", "hover", "slider", "path", "zoom", "pan", "legend", "rotate")


@dataclass(frozen=True)
class SelfTest:
    """An explorer page's self-test results, as read from its DOM after the page ran in a browser."""

    page: str
    max_abs_diff: float
    frames: int
    decode_ms: float  # mean per frame, over the self-test's frames
    ui: dict[str, str]  # UI_CHECKS -> "1", "0" or "none" (not applicable: no paths, or d < 3 for rotate)

    @property
    def ok(self) -> bool:
        return self.max_abs_diff <= TOLERANCE and all(self.ui.get(k) in ("1", "none") for k in UI_CHECKS)


def find_browser() -> str | None:
    """A headless-capable Chromium on PATH (Debian's ``chromium``), or None."""
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def page_dom(page: str | os.PathLike[str], fragment: str, browser: str, profile: str | os.PathLike[str], timeout: float = 180) -> str:
    """The DOM of ``page`` opened with ``fragment`` in headless Chromium, after its scripts ran (``--dump-dom``)."""
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=5000",
             "--window-size=1400,1000"]
    proc = subprocess.run([*flags, "--dump-dom", Path(page).resolve().as_uri() + fragment], capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{page}: {browser} exited with {proc.returncode}: {last}")
    return proc.stdout


def page_selftest(page: str | os.PathLike[str], browser: str | None = None) -> SelfTest:
    """Open ``page#selftest`` and ``page#selftest-ui`` in headless Chromium and read what the page wrote."""
    browser = browser or find_browser()
    if browser is None:
        raise RuntimeError("no Chromium on PATH (Debian package 'chromium')")
    with tempfile.TemporaryDirectory(prefix="latentwalk-chromium-") as profile:
        dom = page_dom(page, "#selftest", browser, profile)
        ui_dom = page_dom(page, "#selftest-ui", browser, profile)
    found = re.search(r'<pre id="selftest"[^>]*>max_abs_diff=(\S+) frames=(\d+)</pre>', dom)
    timing = re.search(r'<pre id="selftest-timing"[^>]*>decode_ms=([\d.]+)</pre>', dom)
    ui = re.search(r'<pre id="selftest-ui"[^>]*>([^<]*)</pre>', ui_dom)
    if not (found and timing and ui):
        raise RuntimeError(f"{page}: the page wrote no self-test result (a script error?)")
    return SelfTest(str(page), float(found.group(1)), int(found.group(2)), float(timing.group(1)),
                    dict(item.split("=", 1) for item in ui.group(1).split()))

