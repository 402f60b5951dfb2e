"""Figures of decoded walks: image mosaics, interpolation and traversal strips, the decoded grid, the spiral walk and its GIF."""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import rcParams
from matplotlib.image import AxesImage
from matplotlib.patches import Rectangle
from matplotlib.transforms import ScaledTranslation
from PIL import Image, ImageDraw

from latentwalk.core.io import atomic_path
from latentwalk.figures.style import SERIES, new_figure, new_subplots, style, text_inches

__all__ = ["mosaic", "as_picture", "to_rgb8", "image_rows_figure", "decoded_grid_figure", "spiral_figure", "spiral_animation",
           "magnification_figure"]


def mosaic(rows: Sequence[np.ndarray], gap: int = 1, fill: float = 1.0) -> np.ndarray:
    """Tile rows of images ``(S_r, H, W, C)`` into one image ``(H', W', C)`` with ``gap``-pixel separators.

    Rows may have different lengths; short rows are padded with ``fill``.
    """
    if not rows:
        raise ValueError("mosaic needs at least one row")
    h, w, c = rows[0].shape[1:]
    cols = max(len(r) for r in rows)
    out = np.full((len(rows) * (h + gap) - gap, cols * (w + gap) - gap, c), fill, dtype=np.float32)
    for i, row in enumerate(rows):
        for j, image in enumerate(row):
            out[i * (h + gap) : i * (h + gap) + h, j * (w + gap) : j * (w + gap) + w] = image
    return out


def as_picture(image: np.ndarray) -> np.ndarray:
    """An image ``(H, W, C)`` as matplotlib draws it: ``(H, W)`` grey values (C = 1) or ``(H, W, 3)`` RGB."""
    return image[..., 0] if image.shape[-1] == 1 else np.clip(image, 0.0, 1.0)


def to_rgb8(image: np.ndarray) -> np.ndarray:
    """An image ``(H, W, C)`` in [0, 1] as 8-bit RGB ``(H, W, 3)`` (grey repeated into the three channels)."""
    rgb = np.broadcast_to(np.asarray(image, dtype=np.float64), (*image.shape[:2], 3))
    return np.clip(rgb * 255.0 + 0.5, 0, 255).astype(np.uint8)


@functools.cache
def _block_image_type() -> type:
    """:class:`matplotlib.image.AxesImage` drawn, where it can be, as blocks of whole canvas pixels (made on first
    use: matplotlib is imported only by the jobs that draw)."""

    class BlockImage(AxesImage):  # type: ignore[misc]
        """An image that covers a whole number of canvas pixels per image pixel, the same number both ways (as
        :func:`_mosaic_figure` sizes it), is drawn as its colour-mapped pixels repeated into those blocks, its corner
        at the pixel border nearest to its box's. Where that box is whole pixels these are the pixels matplotlib's
        nearest-neighbour resampling draws (tested against ``imshow``), without resampling the data, its mask and
        alpha at the canvas's size and colour-mapping every canvas pixel (two thirds of drawing a decoded grid);
        where float error leaves the box a hair past whole pixels, matplotlib 3.10 rounds its output up a pixel and
        stretches the image over it (one column of images a pixel wider), and the blocks stay exact. Anything else
        (another resolution, a clipped or magnified image, an SVG) is left to matplotlib."""

        def make_image(self, renderer: Any, magnification: float = 1.0, unsampled: bool = False) -> Any:
            blocks = None if unsampled or magnification != 1.0 or self.origin != "upper" else self._blocks(renderer)
            return blocks if blocks is not None else super().make_image(renderer, magnification, unsampled)

        def _blocks(self, renderer: Any) -> tuple[np.ndarray, int, int, None] | None:
            data = self.get_array()
            box = self.get_window_extent(renderer)
            clip = (self.get_clip_box() or self.axes.bbox) if self.get_clip_on() else box
            inside = (clip.x0 - 1e-6 <= box.x0 and clip.y0 - 1e-6 <= box.y0 and box.x1 <= clip.x1 + 1e-6
                      and box.y1 <= clip.y1 + 1e-6)
            if data is None or data.ndim not in (2, 3) or not inside:  # a clipped image: matplotlib crops it
                return None
            # the canvas pixels the box covers, rounded to the nearest pixel borders
            x0, x1 = math.floor(box.x0 + 0.5), math.floor(box.x1 + 0.5 + 1e-8)
            y0, y1 = math.ceil(box.y0 - 0.5 - 1e-8), math.ceil(box.y1 - 0.5)
            (scale, rest_x), (scale_y, rest_y) = divmod(x1 - x0, data.shape[1]), divmod(y1 - y0, data.shape[0])
            if rest_x or rest_y or scale != scale_y or scale < 1:
                return None
            pixels = self.to_rgba(data, bytes=True)[::-1]  # the canvas's rows run upwards
            return np.repeat(np.repeat(pixels, scale, axis=0), scale, axis=1), x0, y0, None

    return BlockImage


def _mosaic_axes(ax: Any, rows: Sequence[np.ndarray], gap: int = 1) -> tuple[int, int]:
    """Draw a mosaic (grey separators, images as decoded: 0 black, 1 white; RGB images in colour) on ``ax``: what
    ``imshow(..., cmap="gray", vmin=0, vmax=1, interpolation="nearest")`` draws, as a :func:`_block_image_type`."""
    h, w = rows[0].shape[1:3]
    image = _block_image_type()(ax, cmap="gray", interpolation="nearest", origin="upper")
    image.set_data(as_picture(mosaic(rows, gap, fill=0.5)))
    image.set_clim(0.0, 1.0)
    ax.set_aspect("equal")
    image.set_extent(image.get_extent())  # the axes' limits, as imshow sets them
    ax.add_image(image)
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return h + gap, w + gap


def _mosaic_figure(rows: Sequence[np.ndarray], cell_inches: float, gap: int = 1, left: float = 0.0, top: float = 0.0,
                   bottom: float = 0.0, title: str = "") -> tuple[Any, Any, int, int]:
    """A figure holding the mosaic of ``rows`` in one axes, a whole number of PNG pixels per image pixel (crisp
    nearest-neighbour scaling; about ``cell_inches`` per image), with margins (inches) for its labels: ``left``,
    ``top`` and ``bottom``, widened on both sides where ``title`` (axes title size) is wider than the mosaic.

    The figure needs no layout pass (``tight_layout`` would measure every label once more):
    :func:`~latentwalk.figures.style.save_figure` crops it to its content. Margins wide enough to hold the labels let
    it draw the PNG on the canvas it measured; content that still falls outside is drawn onto a canvas of the
    crop's size instead (each label measured once more)."""
    rc = style()
    h, w = rows[0].shape[1:3]
    dpi = float(rc["savefig.dpi"])
    scale = max(1, round(cell_inches * dpi / (w + gap)))  # PNG pixels per image pixel
    height, width = len(rows) * (h + gap) - gap, max(len(r) for r in rows) * (w + gap) - gap
    inches_w, inches_h = width * scale / dpi, height * scale / dpi
    overhang = max(0.0, (text_inches(title, float(rc["axes.titlesize"])) - inches_w) / 2) + 0.1
    left, right = max(left, overhang), overhang
    fig_w, fig_h = left + inches_w + right, bottom + inches_h + top
    fig = new_figure(figsize=(fig_w, fig_h))
    ax = fig.add_axes((left / fig_w, bottom / fig_h, inches_w / fig_w, inches_h / fig_h))
    dy, dx = _mosaic_axes(ax, rows, gap)
    ax.set_aspect("auto")  # the axes has the mosaic's own shape
    return fig, ax, dy, dx


def _edge_labels(ax: Any, side: str, at: Sequence[float], labels: Sequence[str], size: float, title: str = "") -> None:
    """Label rows (``side`` "left": right-aligned beside the axes) or columns ("bottom": centred under it, with
    ``title`` under the labels) of an image at data coordinates ``at``, where tick labels would sit.

    Plain texts, not ticks: a mosaic's dozens of tick labels cost more than the image (every tick carries two tick
    lines, a grid line and two labels, is located, formatted and measured again in each pass). Positions are those
    of tick labels with zero-length ticks (``xtick.major.pad`` points off the axes)."""

    fig = ax.get_figure()
    pad = float(rcParams["xtick.major.pad"]) / 72
    if side == "left":
        shift = ax.get_yaxis_transform() + ScaledTranslation(-pad, 0, fig.dpi_scale_trans)
        for y, label in zip(at, labels):
            ax.text(0, y, label, transform=shift, ha="right", va="center", fontsize=size)
        return
    shift = ax.get_xaxis_transform() + ScaledTranslation(0, -pad, fig.dpi_scale_trans)
    for x, label in zip(at, labels):
        ax.text(x, 0, label, transform=shift, ha="center", va="top", fontsize=size)
    if title:
        below = pad + (size * 1.2 + float(rcParams["axes.labelpad"])) / 72
        ax.text(0.5, 0, title, transform=ax.transAxes + ScaledTranslation(0, -below, fig.dpi_scale_trans),
                ha="center", va="top", fontsize=rcParams["axes.labelsize"])


def image_rows_figure(
    rows: Sequence[np.ndarray],
    row_labels: Sequence[str],
    title: str,
    col_labels: Sequence[str] | None = None,
    col_title: str = "",
    mark_ends: bool = False,
    group_size: int = 0,
    cell_inches: float = 0.42,
) -> Any:
    """Rows of decoded images with labels; optionally frame each row's endpoints.

    ``group_size`` > 0 draws a thin rule after every ``group_size`` rows (e.g.
    between the method rows of successive endpoint pairs).
    """
    label_size = 8.0
    fig, ax, dy, dx = _mosaic_figure(rows, cell_inches, left=0.15 + max(text_inches(t, label_size) for t in row_labels),
                                     top=0.45, bottom=0.6 if col_labels is not None else 0.1, title=title)
    h, w = rows[0].shape[1:3]
    ax.set_xticks([])
    ax.set_yticks([])
    _edge_labels(ax, "left", [i * dy + h / 2 - 0.5 for i in range(len(rows))], row_labels, label_size)
    if col_labels is not None:
        _edge_labels(ax, "bottom", [j * dx + w / 2 - 0.5 for j in range(len(col_labels))], col_labels, 7, col_title)
    if mark_ends:

        for i, row in enumerate(rows):
            for j in (0, len(row) - 1):
                ax.add_patch(
                    Rectangle((j * dx - 0.5, i * dy - 0.5), w, h, fill=False, edgecolor=SERIES[1], linewidth=1.5,
                              clip_on=False)
                )
    if group_size > 0:
        for k in range(group_size, len(rows), group_size):
            ax.axhline(k * dy - 1, color=SERIES[0], linewidth=0.8)
    ax.set_title(title)
    return fig


def decoded_grid_figure(images: np.ndarray, u: np.ndarray, v: np.ndarray, coordinates: str, title: str) -> Any:
    """The decoded n x n grid (the latent manifold), with its latent or PC coordinates on the axes."""
    n = images.shape[0]
    h, w = images.shape[2:4]
    cell = min(9.0, max(4.0, n * 0.45)) / n  # the grid's side: 0.45 in per image, within 4..9 in
    fig, ax, dy, dx = _mosaic_figure(list(images), cell, left=1.0, top=0.45, bottom=0.7, title=title)
    stride = max(1, n // 7)
    ticks = list(range(0, n, stride))
    ax.set_xticks([j * dx + w / 2 - 0.5 for j in ticks])
    ax.set_xticklabels([f"{u[j]:.2g}" for j in ticks], fontsize=8)
    ax.set_yticks([i * dy + h / 2 - 0.5 for i in ticks])
    ax.set_yticklabels([f"{v[i]:.2g}" for i in ticks], fontsize=8)
    if coordinates == "latent":
        ax.set_xlabel("z₁")
        ax.set_ylabel("z₂")
    else:
        ax.set_xlabel("PC1 (standard deviations from the mean)")
        ax.set_ylabel("PC2 (standard deviations from the mean)")
    ax.set_title(title)
    return fig


#: How the magnification map draws each walk: straight lines dashed, the geodesics of either metric solid.
_MAP_STYLES: dict[str, dict[str, Any]] = {"lerp": {"color": "white", "ls": "--", "lw": 1.2},
                                          "geodesic": {"color": SERIES[1], "ls": "-", "lw": 1.8},
                                          "geodesic_variance": {"color": SERIES[4], "ls": "-", "lw": 1.8}}


def magnification_figure(grid: dict[str, np.ndarray], codes: np.ndarray, paths: dict[str, np.ndarray],
                         axes_names: tuple[str, str], title: str) -> Any:
    """The decoder's area element over a plane (``grid``: ``u``, ``v``, ``values``; log colour scale) with the encoded
    points ``codes`` ``(n, 2)`` and the projected paths (method -> ``(P, S, 2)``: lerp dashed, geodesics solid):
    where the interpolations cross stretched, empty space."""
    from matplotlib.colors import LogNorm

    panels = 2 if "std" in grid else 1  # the variance metric: the decoder's mean standard deviation beside
    fig, axes = new_subplots(1, panels, figsize=(6.6 * panels, 5.2), layout="constrained", squeeze=False)
    ax = axes[0, 0]
    if panels == 2:
        right = axes[0, 1]
        shade = right.pcolormesh(grid["u"], grid["v"], grid["std"], cmap="magma", shading="auto",
                                 norm=LogNorm(vmin=max(float(np.min(grid["std"])), 1e-6), vmax=float(np.max(grid["std"]))))
        fig.colorbar(shade, ax=right, label="the decoder's standard deviation, mean over pixels")
        right.scatter(codes[:, 0], codes[:, 1], s=4, c="white", edgecolors="0.2", linewidths=0.3, alpha=0.7)
        for method, tracks in paths.items():
            for track in tracks:
                right.plot(track[:, 0], track[:, 1], **{**_MAP_STYLES[method], "lw": 1.2})
        right.set_xlim(grid["u"][0], grid["u"][-1])
        right.set_ylim(grid["v"][0], grid["v"][-1])
        right.set_xlabel(axes_names[0])
        right.set_title("variance network: where the data are not", fontsize=9)
    values = np.asarray(grid["values"], dtype=np.float64)
    positive = values[values > 0]
    low = float(positive.min()) if positive.size else 1e-12
    mesh = ax.pcolormesh(grid["u"], grid["v"], np.maximum(values, low), cmap="viridis", shading="auto",
                         norm=LogNorm(vmin=low, vmax=max(float(values.max()), low * 10)))
    fig.colorbar(mesh, ax=ax, label="sqrt(det(JᵀJ)): decoded area per latent area")
    ax.scatter(codes[:, 0], codes[:, 1], s=4, c="white", edgecolors="0.2", linewidths=0.3, alpha=0.7, label="encoded test points")
    for method, tracks in paths.items():
        for k, track in enumerate(tracks):
            ax.plot(track[:, 0], track[:, 1], **_MAP_STYLES[method], label=method if k == 0 else None)
            ax.plot(track[[0, -1], 0], track[[0, -1], 1], "o", color=_MAP_STYLES[method]["color"], ms=3)
    ax.set_xlim(grid["u"][0], grid["u"][-1])
    ax.set_ylim(grid["v"][0], grid["v"][-1])
    ax.set_xlabel(axes_names[0])
    ax.set_ylabel(axes_names[1])
    ax.legend(loc="upper right", fontsize=8, framealpha=0.8)
    ax.set_title(title, fontsize=9)
    return fig


def _prior_density(ax: Any, extent: float) -> None:
    grid = np.linspace(-extent, extent, 200)
    xx, yy = np.meshgrid(grid, grid)
    density = np.exp(-(xx**2 + yy**2) / 2) / (2 * np.pi)
    ax.contourf(xx, yy, density, levels=12, cmap="Greys", alpha=0.6)


def spiral_figure(xy: np.ndarray, t: np.ndarray, frames: np.ndarray, title: str, n_frames: int = 12) -> Any:
    """The 2-D spiral walk: trace over the N(0, I) density, components vs t, and decoded frames."""
    fig = new_figure(figsize=(11, 6.2))
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 1.3])
    ax_trace = fig.add_subplot(grid[0, 0])
    extent = float(np.abs(xy).max()) * 1.15 + 0.1
    _prior_density(ax_trace, extent)
    ax_trace.plot(xy[:, 0], xy[:, 1], color=SERIES[0], linewidth=1.5)
    pick = np.linspace(0, len(t) - 1, n_frames).round().astype(int)
    ax_trace.scatter(xy[pick, 0], xy[pick, 1], color=SERIES[3], s=18, zorder=3, label="decoded below")
    ax_trace.scatter(xy[:1, 0], xy[:1, 1], color="black", marker="s", s=25, zorder=4, label="start")
    ax_trace.set_xlabel("z₁")
    ax_trace.set_ylabel("z₂")
    ax_trace.set_aspect("equal")
    ax_trace.legend(loc="upper right", fontsize=8)
    ax_trace.set_title("trace over the N(0, I) density")
    ax_comp = fig.add_subplot(grid[0, 1])
    ax_comp.plot(t, xy[:, 0], color=SERIES[0], label="z₁(t) = (0.2t − 2) sin t")
    ax_comp.plot(t, xy[:, 1], color=SERIES[1], linestyle="--", label="z₂(t) = (0.2t − 2) cos t")
    ax_comp.set_xlabel("t (rad)")
    ax_comp.set_ylabel("latent coordinate")
    ax_comp.legend(fontsize=8)
    ax_comp.set_title("components along the walk")
    ax_frames = fig.add_subplot(grid[1, :])
    dy, dx = _mosaic_axes(ax_frames, [frames[pick]])
    h, w = frames.shape[1:3]
    ax_frames.set_xticks([j * dx + w / 2 - 0.5 for j in range(len(pick))])
    ax_frames.set_xticklabels([f"{t[k]:.2f}" for k in pick], fontsize=7)
    ax_frames.set_xlabel("t (rad)")
    ax_frames.set_yticks([])
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def spiral_animation(xy: np.ndarray, frames: np.ndarray, out_gif: str | os.PathLike[str], title: str, fps: int = 12) -> int:
    """Write an animated GIF of the walk: decoded frame beside the trace with a moving point.

    matplotlib draws the static part (density, trace, title) once; each frame is that picture with the point and the
    decoded image pasted in with PIL, instead of redrawing the figure per frame.
    Returns the number of frames written (one per path step).
    """

    dpi = 80
    fig, (ax_trace, ax_image) = new_subplots(1, 2, figsize=(6.4, 3.2), dpi=dpi)
    extent = float(np.abs(xy).max()) * 1.15 + 0.1
    _prior_density(ax_trace, extent)
    ax_trace.plot(xy[:, 0], xy[:, 1], color=SERIES[0], linewidth=1)
    ax_trace.set_aspect("equal")
    ax_trace.set_xlabel("z₁")
    ax_trace.set_ylabel("z₂")
    ax_image.imshow(np.zeros(frames.shape[1:3]), cmap="gray", vmin=0, vmax=1)
    ax_image.set_axis_off()
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.canvas.draw()
    background = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    height = background.height
    points = ax_trace.transData.transform(xy)  # display pixels, origin bottom left
    box = ax_image.get_window_extent()
    left, top = int(round(box.x0)), int(round(height - box.y1))
    size = (int(round(box.width)), int(round(box.height)))
    radius = 3.5 * dpi / 72
    colour = tuple(int(SERIES[3][i : i + 2], 16) for i in (1, 3, 5))
    images = [Image.fromarray(to_rgb8(frame)) for frame in frames]
    # one palette for every frame: the background's colours, a grey ramp or the decoded images' colours, the point's
    sample = Image.new("RGB", (background.width, height + 8 + sum(im.height for im in images) * (frames.shape[3] == 3)), colour)
    sample.paste(background, (0, 0))
    if frames.shape[3] == 1:
        ramp = Image.fromarray(np.repeat(np.arange(256, dtype=np.uint8)[None, :], 4, axis=0)).convert("RGB")
        sample.paste(ramp.resize((background.width, 4)), (0, height))
    else:
        for k, im in enumerate(images):
            sample.paste(im, (0, height + 8 + k * im.height))
    palette = sample.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    pictures = []
    for k, im in enumerate(images):
        picture = background.copy()
        picture.paste(im.resize(size, Image.Resampling.NEAREST), (left, top))
        x, y = points[k, 0], height - points[k, 1]
        ImageDraw.Draw(picture).ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour)
        pictures.append(picture.quantize(palette=palette, dither=Image.Dither.NONE))
    with atomic_path(out_gif) as tmp:
        pictures[0].save(tmp, format="GIF", save_all=True, append_images=pictures[1:], duration=round(1000 / fps), loop=0)
    return len(pictures)
