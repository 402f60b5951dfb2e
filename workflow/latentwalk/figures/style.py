"""The shared figure style: palette, matplotlib set-up, saving, and small layout helpers.

Figures are drawn on matplotlib's Agg canvas without pyplot (:func:`new_figure`). Figure functions live in modules
of one concern each (:mod:`~latentwalk.figures.diagnostics`, :mod:`~latentwalk.figures.decoded`,
:mod:`~latentwalk.figures.geometry`, :mod:`~latentwalk.figures.along_paths`, ...); each returns the Figure, and
:func:`save_figure` writes PNG (for the report) and SVG (for papers) atomically.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imsave
from matplotlib.transforms import Bbox

from latentwalk.core.io import atomic_path

__all__ = ["PALETTE", "SERIES", "style", "new_figure", "new_subplots", "save_figure", "empty_panel", "bottom_legend",
           "legend_columns", "text_inches", "finish"]

# Paul Tol's "muted" qualitative scheme (colour-blind safe) plus a neutral grey: ten classes.
PALETTE = (
    "#332288", "#88CCEE", "#44AA99", "#117733", "#999933",
    "#DDCC77", "#CC6677", "#882255", "#AA4499", "#777777",
)
# Three series that stay distinct for every kind of colour blindness (Okabe-Ito).
SERIES = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9")

#: zlib level of the PNGs (part of every figure's bytes): quicker to write than the default 6, files a little larger.
PNG_COMPRESSION = 3

_RC = {
    "figure.dpi": 100,
    "savefig.dpi": 120,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
    # Titles sit at the top of their axes: these figures have no top tick labels for matplotlib's automatic placement
    # (axes.titley None) to dodge.
    "axes.titley": 1.0,
    "svg.hashsalt": "latentwalk",  # stable ids: same data -> same SVG bytes
    # SVG text as <text> elements (DejaVu Sans, as drawn): editable and searchable in a paper's figure, smaller files.
    "svg.fonttype": "none",
}


def style() -> Any:
    """matplotlib's ``rcParams`` with the project's style applied."""

    matplotlib.rcParams.update(_RC)
    return matplotlib.rcParams


def new_figure(**kwargs: Any) -> Any:
    """A :class:`~matplotlib.figure.Figure` (its keyword arguments) on an Agg canvas, in the project's style.

    Not ``pyplot.figure``: pyplot's global figure manager serves interactive sessions; a figure made here is freed
    with its last reference, no ``close`` needed."""

    style()
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def new_subplots(nrows: int = 1, ncols: int = 1, *, sharex: bool = False, sharey: bool = False, squeeze: bool = True,
                 gridspec_kw: dict[str, Any] | None = None, **figure_kw: Any) -> tuple[Any, Any]:
    """``pyplot.subplots`` on :func:`new_figure`: the figure (``figure_kw``) and its grid of axes."""
    fig = new_figure(**figure_kw)
    return fig, fig.subplots(nrows, ncols, sharex=sharex, sharey=sharey, squeeze=squeeze, gridspec_kw=gridspec_kw)


def save_figure(fig: Any, png: str | os.PathLike[str], svg: str | os.PathLike[str] | None = None) -> None:
    """Write the figure as PNG (and SVG) atomically, cropped to its content.

    The figure is laid out once (its layout engine, if any) and drawn once on its canvas at the PNG's resolution;
    each file is one drawing pass. The content is what that drawing inked: the PNG is the canvas cropped to the
    inked pixels with ``savefig.pad_inches`` of background around them, and the SVG is cropped to the same box.
    matplotlib's ``bbox_inches="tight"`` instead measures every artist's layout box (each axis locates, formats and
    measures its ticks once more) and draws again for each file. The two crops differ by a few pixels (a text's layout box holds its full ascent and descent; a glyph may reach
    past its advance).

    Content that may reach past the canvas (ink at its edge, or a text or legend placed past it, which would leave
    no ink at all) is measured as ``bbox_inches="tight"`` does and drawn onto a canvas of the padded box's size.
    """

    engine = fig.get_layout_engine()
    dpi = float(matplotlib.rcParams["savefig.dpi"])
    pad = float(matplotlib.rcParams["savefig.pad_inches"])
    fig.set_dpi(dpi)  # lay out and draw at the PNG's resolution
    if engine is not None:
        engine.execute(fig)  # a placeholder (after ``tight_layout()``) does nothing
    fig.set_layout_engine(None)  # keep these positions: no layout on the passes below
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    pixels = np.asarray(fig.canvas.buffer_rgba())
    crop = _ink_crop(pixels, pad * dpi)
    if crop is not None and not _placed_on_canvas(fig, renderer):
        crop = None
    with atomic_path(png) as tmp:
        if crop is None:
            box = fig.get_tightbbox(renderer).padded(pad)
            fig.savefig(tmp, format="png", bbox_inches=box, metadata={"Software": None},
                        pil_kwargs={"compress_level": PNG_COMPRESSION})
        else:
            top, bottom, left, right = crop
            height = float(renderer.height)  # display y runs up from the canvas's bottom edge
            box = Bbox.from_extents(left / dpi, (height - bottom) / dpi, right / dpi, (height - top) / dpi)
            _write_canvas_png(pixels, crop, dpi, tmp)
    if svg is not None:
        with atomic_path(svg) as tmp:
            fig.savefig(tmp, format="svg", bbox_inches=box, metadata={"Date": None, "Creator": None})


def _ink_crop(pixels: Any, pad: float) -> tuple[int, int, int, int] | None:
    """The pixel rectangle ``(top, bottom, left, right)`` (rows from the top, ends excluded) of the inked pixels
    of an RGBA canvas (those unlike its top-left, background, pixel) widened by ``pad`` pixels on every side; it
    may reach past the canvas. None when nothing is inked or the ink comes within a pixel of the canvas's edge:
    then content may have been cut off by it."""


    flat = pixels.view(np.uint32)[..., 0]  # one comparison per pixel, not per channel
    ink = flat != flat[0, 0]
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    if not rows.size or rows[0] < 1 or columns[0] < 1 or rows[-1] > flat.shape[0] - 2 or columns[-1] > flat.shape[1] - 2:
        return None
    return (math.floor(rows[0] - pad), math.ceil(rows[-1] + 1 + pad), math.floor(columns[0] - pad),
            math.ceil(columns[-1] + 1 + pad))


def _placed_on_canvas(fig: Any, renderer: Any) -> bool:
    """Whether every text and legend (the figure's and each axes': titles, axis labels, annotations) lies on the
    canvas, to a pixel (a label's layout box, with its full descent, may end a fraction of a pixel past the edge
    with its ink on the canvas). These are what a figure places freely, so what could lie wholly past its edge and
    leave no ink to see; tick labels sit beside their axes, data inside them. Their sizes were measured by the
    drawing (cached)."""
    placed = [*fig.texts, *fig.legends]
    for ax in fig.axes:
        placed += [*ax.texts, ax.title, ax._left_title, ax._right_title]
        placed += [axis.label for axis in (ax.xaxis, ax.yaxis, getattr(ax, "zaxis", None)) if axis is not None]
        if ax.get_legend() is not None:
            placed.append(ax.get_legend())
    width, height = renderer.width, renderer.height
    for artist in placed:
        if not artist.get_visible() or (hasattr(artist, "get_text") and not artist.get_text()):
            continue
        box = artist.get_window_extent(renderer)
        if box.x0 < -1 or box.y0 < -1 or box.x1 > width + 1 or box.y1 > height + 1:
            return False
    return True


def _write_canvas_png(pixels: Any, crop: tuple[int, int, int, int], dpi: float, path: str | os.PathLike[str]) -> None:
    """Write the ``crop`` (see :func:`_ink_crop`) of the drawn RGBA canvas ``pixels`` as ``savefig`` writes a PNG
    (pixel format, resolution, compression, metadata); the part of the crop past the canvas is the background."""

    top, bottom, left, right = crop
    out = np.empty((bottom - top, right - left, 4), dtype=np.uint8)
    out[...] = pixels[0, 0]  # outside the ink (checked): the background
    rows, columns = slice(max(top, 0), min(bottom, pixels.shape[0])), slice(max(left, 0), min(right, pixels.shape[1]))
    out[rows.start - top : rows.stop - top, columns.start - left : columns.stop - left] = pixels[rows, columns]
    imsave(path, out, format="png", dpi=dpi, metadata={"Software": None}, pil_kwargs={"compress_level": PNG_COMPRESSION})


def empty_panel(ax: Any, message: str) -> None:
    """A panel that only says why it is empty."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def text_inches(text: str, points: float) -> float:
    """A generous estimate of a one-line label's width: 0.7 em per character (DejaVu Sans averages about 0.6)."""
    return len(text) * points * 0.7 / 72


def legend_columns(labels: Sequence[str], most: int, width: float, points: float) -> int:
    """The legend columns for ``labels`` (at most ``most``) that keep it within ``width`` inches: as many as fit
    in the fewest rows, spread evenly (matplotlib fills columns in contiguous runs, ``np.array_split``).

    Widths use :func:`text_inches` and matplotlib's default legend spacing (a 2-em handle, 0.8 em to the label,
    2 em between columns, 0.9 em of padding at either end). A legend wider than its figure would reach past the
    canvas, and :func:`save_figure` would have to draw the figure again on a larger one; the estimate errs wide,
    so at worst the legend takes a row more than it needed."""

    em = points / 72
    entries = [2.8 * em + text_inches(label, points) for label in labels]
    if not entries:
        return 1
    columns = 1
    for rows in range(1, len(entries) + 1):
        columns = min(max(1, most), -(-len(entries) // rows))
        chunks = [chunk for chunk in np.array_split(np.asarray(entries), columns) if chunk.size]
        if sum(float(c.max()) for c in chunks) + 2.0 * em * (len(chunks) - 1) + 1.8 * em <= width:
            return columns
    return columns


def bottom_legend(fig: Any, handles: Sequence[Any], labels: Sequence[str], ncol: int) -> Any:
    """One shared legend under all panels (constrained layout makes room for it), in at most ``ncol`` columns:
    fewer when that many would be wider than the figure (:func:`legend_columns`)."""
    points = 9.0
    columns = legend_columns(labels, ncol, fig.get_figwidth(), points)
    return fig.legend(handles, labels, loc="outside lower center", ncol=columns, fontsize=points)


def finish(fig: Any, title: str) -> Any:
    """The figure's title; spacing is left to the constrained layout."""
    fig.suptitle(title)
    return fig
