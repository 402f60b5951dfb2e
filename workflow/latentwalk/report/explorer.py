"""The interactive latent explorer: one self-contained HTML page per run that decodes latents in the browser.

The page carries its data as JSON (the encoded test points and their
projection, the decoder's weights as base64 float32, path overlays, and
reference images decoded by torch for the self-test) and plain JavaScript
(``assets/explorer.js``) that runs the decoder's forward pass itself: no
server, no network, no external script, font or style.

Rule project (:mod:`latentwalk.report.project`) exports the decoder as a list of
layers in the order they run; rule explorer (:func:`build_explorer`, numpy only)
assembles the page. The ``latentwalk explorers`` command checks pages in headless
Chromium (:func:`page_selftest`).
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from latentwalk.core.io import LatentwalkError, PathLike, atomic_path, method_files, read_json, read_parquet
from latentwalk.core.latents import label_text
from latentwalk.core.logs import Log, quiet
from latentwalk.core.registry import VIEW_OBJECTS
from latentwalk.walks.projection import place_by_neighbours

__all__ = ["encode_f32", "decode_f32", "render_page", "ASSETS", "SelfTest", "find_browser", "page_dom", "page_selftest",
           "TOLERANCE", "OVERLAY_PATHS", "build_explorer"]

#: The page's static parts (package data), read by :func:`render_page`.
ASSETS = ("explorer.html", "explorer.css", "explorer.js")


def encode_f32(array: np.ndarray) -> str:
    """``array`` as little-endian float32 bytes, base64 (what the page's ``f32()`` reads back)."""
    return base64.b64encode(np.ascontiguousarray(array, dtype="<f4").tobytes()).decode("ascii")


def decode_f32(text: str) -> np.ndarray:
    """The inverse of :func:`encode_f32` (a flat float32 array)."""
    return np.frombuffer(base64.b64decode(text), dtype="<f4").copy()


def render_page(data: dict[str, Any], title: str) -> str:
    """The explorer page: the HTML template with the run's data (JSON), the style and the script inlined."""
    files = resources.files("latentwalk.report") / "assets"
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


# --------------------------------------------------------------------------- rule explorer

#: Path methods drawn over the explorer's scatter, and at most this many paths of each.
OVERLAY_PATHS = 6


def _overlays(run_mu: np.ndarray, xy: np.ndarray, pca_basis: dict[str, Any], method: str, paths_dir: PathLike,
              methods: Sequence[str], names: list[str] | None = None) -> list[dict[str, Any]]:
    """Paths to draw over the scatter: up to :data:`OVERLAY_PATHS` of each method, with latents and plane points."""
    out = []
    d = run_mu.shape[1]
    for path in method_files(paths_dir, methods, ".parquet", exact=False):
        frame = read_parquet(path)[0].sort_values(["path_id", "step"], kind="stable")
        z_cols = [f"z_{i}" for i in range(d)]
        if any(c not in frame.columns for c in z_cols):
            raise LatentwalkError(f"{path}: paths are not {d}-D")
        name = Path(path).stem
        for path_id in np.unique(frame["path_id"])[:OVERLAY_PATHS]:
            rows = frame[frame["path_id"] == path_id]
            z = _matrix(rows, z_cols)
            if d <= 2:
                plane = np.column_stack([z[:, 0], z[:, 1] if d == 2 else np.zeros(len(z))])
            elif method == "pca":
                plane = (z - np.asarray(pca_basis["mean"])) @ np.asarray(pca_basis["components"])[:2].T
            else:
                plane = place_by_neighbours(run_mu, xy, z)
            label = f"{name} {int(path_id)}"
            if "variant" in rows.columns and rows["variant"].notna().any():
                label += f" ({rows['variant'].iloc[0]})"
            for a, b in (("label_a", "label_b"), ("dim", None), ("component", None)):
                if a in rows.columns and rows[a].notna().any():
                    named = names if a == "label_a" else None  # class ids of the pair's ends have names
                    label += f": {label_text(rows[a].iloc[0], named)}" + (f" → {label_text(rows[b].iloc[0], named)}" if b else "")
                    break
            out.append({"method": name, "path_id": int(path_id), "label": label, "steps": len(z), "z": encode_f32(z),
                        "xy": encode_f32(plane)})
    return out


def _with_path_frames(predecoded: dict[str, Any], paths: list[dict[str, Any]], decoded_dir: PathLike, d: int) -> dict[str, Any]:
    """The pre-decoded latents and images of a page that cannot run its decoder, with every overlay path's steps
    added (their frames from the run's decoded paths, ``decoded_dir/{method}.npz``), so that scrubbing shows them."""
    zs, images = [decode_f32(predecoded["z"])], [np.frombuffer(base64.b64decode(predecoded["images"]), np.uint8)]
    for path in paths:
        with np.load(Path(decoded_dir, f"{path['method']}.npz")) as npz:
            row = np.flatnonzero(npz["path_id"] == path["path_id"])
            if len(row) != 1:
                raise LatentwalkError(f"{decoded_dir}/{path['method']}.npz: no decoded frames of path {path['path_id']}")
            frames = npz["images"][row[0]].transpose(0, 3, 1, 2)  # steps, C, H, W: channel-major as the page paints
        zs.append(decode_f32(path["z"]))
        images.append(np.rint(frames.reshape(-1) * 255).clip(0, 255).astype(np.uint8))
    z = np.concatenate(zs)
    return {"k": len(z) // d, "z": encode_f32(z), "images": base64.b64encode(np.concatenate(images).tobytes()).decode("ascii")}


def build_explorer(
    run: str,
    inputs: Mapping[str, PathLike],
    methods: Sequence[str],
    max_sliders: int,
    out_html: PathLike,
    log: Log = quiet,
) -> None:
    """Write the run's explorer page (see :mod:`latentwalk.report.explorer`); numpy only.

    Embeds the projected test points (``inputs['projection']``) with their latents, the decoder and its self-test
    probes (both from ``inputs['decoder']``, :func:`~latentwalk.report.project.export_decoder`), and the paths of
    ``methods`` found in ``inputs['paths']`` as overlays. A decoder the page cannot run comes with pre-decoded
    images, to which the overlay paths' decoded frames (``inputs['decoded']``) are added.
    """
    decoder_json, projection_parquet, paths_dir = inputs["decoder"], inputs["projection"], inputs["paths"]
    start = time.perf_counter()
    decoder = read_json(decoder_json)
    table, meta = read_parquet(projection_parquet)
    d = int(meta.get("latent_dim", -1))
    if d != decoder["latent_dim"]:
        raise LatentwalkError(f"{projection_parquet}: projection of {d}-D latents, but the decoder's latent dim is "
                              f"{decoder['latent_dim']} ({decoder_json})")
    xy = _matrix(table, ["x", "y"])
    mu = _latents_of(table, meta, d)
    method = meta["config"]["method"]
    spread = mu.std(axis=0)
    label_names = meta.get("label_names") or (list(VIEW_OBJECTS) if meta.get("label_kind") == "object" else None)
    data: dict[str, Any] = {
        "run": run,
        "dim": d,
        "kind": decoder["kind"],
        "variational": decoder["variational"],
        "label_kind": meta.get("label_kind", "class"),
        "label_names": label_names,
        "image": decoder["image"],
        "projection": method,
        "points": {"n": len(mu), "xy": encode_f32(xy), "mu": encode_f32(mu), "labels": encode_f32(table["label"].to_numpy()),
                   "index": table["index"].to_numpy().astype(int).tolist(),
                   "pc3": encode_f32(_matrix(table, ["pc_0", "pc_1", "pc_2"])) if d >= 3 else None},
        "pca": meta["pca"],
        "activity": np.argsort(-spread, kind="stable").tolist(),
        "mean": mu.mean(axis=0).tolist(),
        "std": spread.tolist(),
        "max_sliders": int(max_sliders),
        "decoder": decoder["decoder"],
        "fallback": decoder.get("fallback"),
        "predecoded": None,
        "paths": _overlays(mu, xy, meta["pca"], method, paths_dir, methods, label_names),
        "selftest": decoder["selftest"],
    }
    if decoder["decoder"] is None:
        if "decoded" not in inputs:
            raise LatentwalkError(f"{decoder_json}: the page cannot run this decoder and no decoded paths were given")
        data["predecoded"] = _with_path_frames(decoder["predecoded"], data["paths"], inputs["decoded"], d)
    html = render_page(data, f"{run}: latent explorer")
    with atomic_path(out_html) as tmp:
        tmp.write_text(html, encoding="utf-8")
    how = f"{len(data['decoder'])} decoder layers" if data["decoder"] is not None else f"{data['predecoded']['k']} pre-decoded images"
    log(f"{run}: explorer with {len(mu)} points, {len(data['paths'])} paths, {how}; "
        f"{len(html) / 1e6:.2f} MB in {time.perf_counter() - start:.1f}s")


def _latents_of(table: pd.DataFrame, meta: dict[str, Any], d: int) -> np.ndarray:
    """The latents of the projected points, stored with them (``mu_*`` columns)."""
    cols = [f"mu_{i}" for i in range(d)]
    if any(c not in table.columns for c in cols):
        raise LatentwalkError(f"projection table lacks {cols[0]}..{cols[-1]}")
    return _matrix(table, cols)


def _matrix(table: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """The columns as a float64 matrix, column-major (as ``DataFrame.to_numpy`` lays out a float block): sums over it,
    and so the page's numbers, do not depend on how pandas happened to group the table's columns."""
    return np.vstack([table[c].to_numpy(dtype=np.float64) for c in columns]).T
