"""The line benchmark's images: one line segment per angle, drawn by one of two renderers.

Line-angle convention (the ``lines`` benchmark)
-----------------------------------------------
Images are addressed in *pixel-corner* coordinates: ``x`` runs along columns
(0 at the left edge of column 0, ``size`` at the right edge of the last column)
and ``y`` points **up**. Pixel ``(row r, col c)`` covers ``x in [c, c + 1]`` and
``y in [size - r - 1, size - r]``, i.e. the row index decreases as ``y``
increases. The line starts at the image centre ``(size/2, size/2)`` (for a
32x32 image, the corner shared by pixels 15 and 16 in both directions) and
runs ``length`` pixels outward along ``(cos a, sin a)``, the angle ``a``
measured counter-clockwise from the ``+x`` axis (the usual mathematical
convention on screen: ``a = 0`` points right, ``pi/2`` up, ``pi`` left,
``3pi/2`` down). The line is a rectangle ``length`` x ``width`` with flat ends,
centred across its width on that ray.

With ``row, col`` array indices the line's intensity-weighted centroid is at
``col + 0.5 = size/2 + (length/2) cos a`` and ``row + 0.5 = size/2 - (length/2) sin a``.

Renderers (``data.lines.renderer``): :func:`render_lines_acai` draws exactly as the
published benchmark does (so its metrics compare with the paper's numbers);
:func:`render_lines` computes exact area coverage by supersampling. :func:`draw_lines`
picks one from the ``data.lines`` settings; both the dataset and the metric's
reference lines go through it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from latentwalk.core.io import LatentwalkError
from latentwalk.core.registry import LINE_RENDERERS

__all__ = ["render_lines", "render_lines_acai", "draw_lines", "LINES_DEFAULTS"]

#: The ``data.lines`` defaults (as the config schema's).
LINES_DEFAULTS: dict[str, Any] = {"n": 8000, "size": 32, "length": 15.0, "width": 2.0, "supersample": 8, "renderer": "acai"}


def positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise LatentwalkError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def positive_float(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise LatentwalkError(f"{name} must be a positive number, got {value!r}")
    out = float(value)
    if not (math.isfinite(out) and out > 0):
        raise LatentwalkError(f"{name} must be a positive finite number, got {value!r}")
    return out


def _interval(slope: np.ndarray, offset: np.ndarray, lo: float, hi: float) -> tuple[np.ndarray, np.ndarray]:
    """Solve ``lo <= slope * x + offset <= hi`` for x; returns ``(x_lo, x_hi)`` (empty when x_lo > x_hi)."""
    zero = slope == 0.0
    safe = np.where(zero, 1.0, slope)
    r1 = (lo - offset) / safe
    r2 = (hi - offset) / safe
    x_lo = np.minimum(r1, r2)
    x_hi = np.maximum(r1, r2)
    inside = (offset >= lo) & (offset <= hi)
    x_lo = np.where(zero, np.where(inside, -np.inf, np.inf), x_lo)
    x_hi = np.where(zero, np.where(inside, np.inf, -np.inf), x_hi)
    return x_lo, x_hi


def render_lines(
    angles: np.ndarray,
    size: int = 32,
    length: float = 15.0,
    width: float = 2.0,
    supersample: int = 8,
) -> np.ndarray:
    """Draw one antialiased line segment per angle: the ``lines`` benchmark.

    Each image is ``size`` x ``size``; the line is the rectangle of points
    ``p = centre + t (cos a, sin a) + s (-sin a, cos a)`` with ``0 <= t <= length``
    and ``|s| <= width / 2`` (flat ends), in the convention of this module's
    docstring: pixel-corner coordinates, centre ``(size/2, size/2)``, ``y`` up
    (row index decreases as ``y`` increases), ``a`` counter-clockwise from ``+x``.

    A pixel's value is its coverage: the fraction of its ``supersample`` x
    ``supersample`` sub-pixel sample points (at sub-pixel centres
    ``(k + 0.5) / supersample``) that fall inside the rectangle (boundary
    included). Sample counts are computed exactly, one row of samples at a time,
    as the integer number of sample centres inside the rectangle's chord, so the
    result is a pure, deterministic function of the inputs. Work is done in
    chunks of images (bounded memory).

    Args:
        angles: angles in radians, any shape; flattened to (N,).
        size: image side in pixels.
        length: line length in pixels.
        width: line width in pixels.
        supersample: sub-pixel samples per pixel side.

    Returns:
        float32 array (N, size, size) with values in [0, 1].
    """
    size = positive_int("render_lines: size", size)
    supersample = positive_int("render_lines: supersample", supersample)
    length = positive_float("render_lines: length", length)
    width = positive_float("render_lines: width", width)
    a = np.asarray(angles, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(a)):
        raise LatentwalkError("render_lines: angles must be finite")
    n = a.shape[0]
    out = np.empty((n, size, size), dtype=np.float32)
    if n == 0:
        return out

    S = supersample
    n_sub = size * S  # sample rows (and sample columns) per image
    centre = size / 2.0
    half_w = width / 2.0
    # Offsets of the sample-row centres from the centre, in "y up" units: row
    # coordinate v grows downwards, so y - centre = centre - v.
    v = (np.arange(n_sub, dtype=np.float64) + 0.5) / S
    dy = centre - v  # (n_sub,)
    col_start = np.arange(size, dtype=np.int64) * S  # first sample column of each pixel column
    scale = 1.0 / (S * S)

    # Chunk so each (chunk, n_sub, size) int64 array stays around 16 MiB.
    chunk = max(1, (1 << 21) // (n_sub * size))
    for start in range(0, n, chunk):
        ang = a[start : start + chunk]
        ca = np.cos(ang)[:, None]
        sa = np.sin(ang)[:, None]
        # For a sample at (x, y): t = dx ca + dy sa (along the line), s = -dx sa + dy ca (across it).
        t_lo, t_hi = _interval(np.broadcast_to(ca, (ang.size, n_sub)), dy[None, :] * sa, 0.0, length)
        s_lo, s_hi = _interval(np.broadcast_to(-sa, (ang.size, n_sub)), dy[None, :] * ca, -half_w, half_w)
        x_lo = np.maximum(t_lo, s_lo) + centre  # chord of the rectangle on each sample row, in x
        x_hi = np.minimum(t_hi, s_hi) + centre
        # Sample column j sits at x = (j + 0.5) / S; those inside are j in [j_lo, j_hi).
        limit = float(n_sub + 1)
        j_lo = np.ceil(np.clip(x_lo * S - 0.5, -1.0, limit)).astype(np.int64)
        j_hi = np.floor(np.clip(x_hi * S - 0.5, -1.0, limit)).astype(np.int64) + 1
        j_hi = np.maximum(j_hi, j_lo)  # empty chords count zero
        # Samples of each chord inside each pixel column: |[j_lo, j_hi) ∩ [cS, cS + S)|.
        counts = np.clip(j_hi[:, :, None] - col_start, 0, S) - np.clip(j_lo[:, :, None] - col_start, 0, S)
        counts = counts.reshape(ang.size, size, S, size).sum(axis=2)
        out[start : start + ang.size] = counts * scale
    return out


def _acai_line(angle: float, size: int, width: float) -> np.ndarray:
    """One line's ink (twice its coverage, float64 ``(size, size)``) drawn as the published benchmark draws it.

    The segment runs from the centre ``(size/2, size/2)`` to radius ``size/2 - 1`` at ``angle`` (y up). It is
    scanned along its major axis (columns when it is flatter than 45 degrees, else rows; ties scan rows) from
    the end with the smaller coordinate. Scan cell ``s`` runs from ``int(s0)`` to ``ceil(s1) - 1``: the first
    one is weighted by ``ceil(s0) - s0`` when the start is fractional, every other one by 1 (the far end is never
    shortened: the scan stops at the last whole cell). In each scan cell the line covers ``width`` pixels
    **along the minor axis**, starting at ``t0 - width/2 + (s - s0 - 1/2) * slope`` (a half-cell shift along the
    major axis): whole pixels get the cell's weight, the two edge pixels their covered fraction of it. Indices
    follow Python's rules (``int`` truncates; a negative index counts from the far edge), as the benchmark's own
    code does.
    """
    ink = np.zeros((size, size), dtype=np.float64)
    centre = size * 0.5
    radius = centre - 1.0
    row_end = centre + radius * math.sin(-angle)
    col_end = centre + radius * math.cos(-angle)
    along_cols = abs(row_end - centre) < abs(col_end - centre)
    s0, s1, t0, t1 = (centre, col_end, centre, row_end) if along_cols else (centre, row_end, centre, col_end)
    if s1 < s0:
        s0, s1, t0, t1 = s1, s0, t1, t0
    t0 -= width / 2.0
    t1 -= width / 2.0
    slope = (t1 - t0) / (s1 - s0) if s1 != s0 else 0.0
    first_whole = int(math.ceil(s0))
    for s in range(int(s0), int(math.ceil(s1))):
        weight = first_whole - s0 if s < first_whole else 1.0
        lo = t0 + (s - s0 - 0.5) * slope
        hi = lo + width
        lo_whole, hi_whole = int(math.ceil(lo)), int(hi)
        cells: list[tuple[int | slice, float]] = []
        if lo_whole != hi_whole:
            cells.append((slice(lo_whole, hi_whole), weight))
        if lo_whole != lo:
            cells.append((int(lo), weight * (lo_whole - lo)))
        if hi_whole != hi:
            cells.append((hi_whole, weight * (hi - hi_whole)))
        for cell, w in cells:
            if along_cols:
                ink[cell, s] += 2.0 * w
            else:
                ink[s, cell] += 2.0 * w
    return ink


def render_lines_acai(angles: np.ndarray, size: int = 32, width: float = 2.0) -> np.ndarray:
    """Draw one line per angle with the renderer of the published line benchmark (see :func:`_acai_line`).

    The benchmark's pixel value is ``clip(ink - 1, -1, 1)`` (background -1, line +1); this returns it on the
    [0, 1] scale of every dataset here, ``(value + 1) / 2``, so ``2 x - 1`` gives the benchmark's image back.
    Diagonal lines come out thinner than axis-aligned ones (the width is measured along the minor axis), and
    there is no supersampling: partial values appear only at the ends of scan cells and at the first cell.

    Returns:
        float32 array ``(N, size, size)`` in [0, 1].
    """
    size = positive_int("render_lines_acai: size", size)
    width = positive_float("render_lines_acai: width", width)
    a = np.asarray(angles, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(a)):
        raise LatentwalkError("render_lines_acai: angles must be finite")
    out = np.empty((a.shape[0], size, size), dtype=np.float32)
    for i, angle in enumerate(a.tolist()):
        out[i] = (np.clip(_acai_line(angle, size, width) - 1.0, -1.0, 1.0) + 1.0) * 0.5
    return out


def draw_lines(angles: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """Lines at ``angles`` drawn as the ``data.lines`` settings ``params`` say (``renderer`` and its keys): the
    one function both the dataset and the metric's reference set use."""
    renderer = params.get("renderer", LINES_DEFAULTS["renderer"])
    if renderer == "acai":
        return render_lines_acai(angles, size=int(params["size"]), width=float(params["width"]))
    if renderer == "coverage":
        return render_lines(angles, size=int(params["size"]), length=float(params["length"]),
                            width=float(params["width"]), supersample=int(params["supersample"]))
    raise LatentwalkError(f"data.lines.renderer: {renderer!r} is not allowed; allowed values: "
                          + ", ".join(map(repr, LINE_RENDERERS)))
