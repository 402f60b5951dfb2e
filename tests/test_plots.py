"""Unit tests of the decoded-image and run figures (figures_decoded, figures_run) (the workflow tests draw them from real runs)."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest

from latentwalk.figures.decoded import decoded_grid_figure, image_rows_figure, mosaic, spiral_animation
from latentwalk.figures.diagnostics import latent_scatter, project_2d
from latentwalk.figures.style import save_figure
from latentwalk.walks.projection import subsample


@pytest.mark.parametrize("channels", [1, 3])
def test_mosaic_layout_and_padding(channels: int) -> None:
    rows = [np.zeros((3, 2, 2, channels)), np.ones((1, 2, 2, channels))]
    out = mosaic(rows, gap=1, fill=0.5)
    assert out.shape == (2 * 3 - 1, 3 * 3 - 1, channels)
    assert (out[0:2, 0:2] == 0).all() and (out[3:5, 0:2] == 1).all()
    assert (out[3:5, 3:] == 0.5).all()  # the short row is padded
    assert (out[2, :] == 0.5).all()  # separator


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_project_2d(method: str) -> None:
    points = np.random.default_rng(0).standard_normal((60, 5))
    xy, stem, ratio = project_2d(points, seed=1, method=method)
    assert xy.shape == (60, 2) and np.isfinite(xy).all()
    assert (ratio is None) == (method == "tsne")
    same, _, _ = project_2d(points, seed=1, method=method)
    np.testing.assert_array_equal(xy, same)  # seeded
    two = points[:, :2]
    assert project_2d(two)[0] is two  # 2-D latents are shown as they are


def test_subsample_is_seeded_sorted_and_complete_when_small() -> None:
    a = subsample(100, 10, 3)
    assert len(a) == 10 and (np.diff(a) > 0).all()
    np.testing.assert_array_equal(a, subsample(100, 10, 3))
    np.testing.assert_array_equal(subsample(5, 10, 3), np.arange(5))


def _not_blank(path: Path) -> None:
    image = mpimg.imread(path)
    assert image.shape[0] > 100 and image.shape[1] > 100
    assert float(image[..., :3].std()) > 0.03


def test_image_figures_render(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    rows = [rng.random((5, 8, 8, 1)), rng.random((5, 8, 8, 1))]
    fig = image_rows_figure(rows, ["a", "b"], "title", col_labels=list("12345"), col_title="t", mark_ends=True, group_size=1)
    save_figure(fig, tmp_path / "rows.png", tmp_path / "rows.svg")
    _not_blank(tmp_path / "rows.png")
    assert (tmp_path / "rows.svg").read_text().startswith("<?xml")
    grid = rng.random((4, 4, 8, 8, 3))  # colour
    save_figure(decoded_grid_figure(grid, np.linspace(-1, 1, 4), np.linspace(1, -1, 4), "latent", "grid"), tmp_path / "g.png")
    _not_blank(tmp_path / "g.png")
    labels = np.arange(200) % 10
    fig = latent_scatter(rng.standard_normal((200, 6)), labels, "class", "scatter", True)
    assert len(fig.axes) == 2  # scatter and norm histogram
    save_figure(fig, tmp_path / "s.png")
    _not_blank(tmp_path / "s.png")


@pytest.mark.parametrize("channels", [1, 3])
def test_spiral_animation_writes_one_frame_per_step(tmp_path: Path, channels: int) -> None:
    """One GIF frame per step, the decoded image pasted in: grey, or in colour close to the frame's own colours."""
    from PIL import Image

    t = np.linspace(0, 3 * np.pi, 7)
    xy = np.column_stack([(0.2 * t - 2) * np.sin(t), (0.2 * t - 2) * np.cos(t)])
    frames = np.zeros((7, 8, 8, channels), np.float32)
    frames[..., 0] = np.linspace(0.2, 1.0, 7)[:, None, None]  # red (grey) brightening step by step
    assert spiral_animation(xy, frames, tmp_path / "walk.gif", "walk", fps=5) == 7
    with Image.open(tmp_path / "walk.gif") as gif:
        assert gif.n_frames == 7
        gif.seek(6)
        pixels = np.asarray(gif.convert("RGB")).reshape(-1, 3).astype(int)
    expected = (255, 0, 0) if channels == 3 else (255, 255, 255)
    assert (np.abs(pixels - expected).max(axis=1) <= 8).sum() > 100  # the last frame's pure red (white) block
    assert sorted(p.name for p in tmp_path.iterdir()) == ["walk.gif"]  # no temporary left behind


def _figures() -> dict[str, object]:
    """A constrained-layout figure whose labels overflow its axes, a ``tight_layout()`` one with a legend outside its
    axes, one with a colorbar, one with a label placed past its right edge, an image with no layout whose title and
    labels lie outside the canvas, and image rows (no layout, margins for the labels)."""
    from latentwalk.figures.style import new_figure, new_subplots

    rng = np.random.default_rng(1)
    wide, axes = new_subplots(1, 3, figsize=(8, 2.2), layout="constrained")
    for ax in axes:
        ax.barh([f"a rather long category label {i}" for i in range(4)], rng.random(4))
    wide.suptitle("overflowing")
    tight, ax = new_subplots(figsize=(4, 3))
    ax.plot(rng.random(10), label="series")
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    tight.tight_layout()
    bar, ax = new_subplots(figsize=(4, 3), layout="constrained")
    bar.colorbar(ax.scatter(*rng.random((2, 30)), c=rng.random(30)), ax=ax, label="value")
    past, ax = new_subplots(figsize=(4, 3), layout="constrained")
    ax.plot(rng.random(10))
    past.text(1.02, 0.5, "past the edge")
    image = new_figure(figsize=(2, 1))
    ax = image.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.imshow(rng.random((6, 12)), cmap="gray")
    ax.set_title("no layout")
    ax.set_yticks([0, 5], ["row a", "row b"])
    rows = image_rows_figure([rng.random((4, 6, 6, 1))] * 2, ["row a", "row b"], "no layout", col_labels=list("abcd"))
    return {"constrained": wide, "tight_layout": tight, "colorbar": bar, "past_edge": past, "image": image,
            "image_rows": rows}


def _ink(image: np.ndarray) -> tuple[int, tuple[int, int, int, int]]:
    """The number of non-white pixels and the white margins (top, bottom, left, right) around them."""
    ink = (image[..., :3] < 1).any(axis=-1)
    rows, columns = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    return int(ink.sum()), (int(rows[0]), image.shape[0] - 1 - int(rows[-1]), int(columns[0]), image.shape[1] - 1 - int(columns[-1]))


def _inked(image: np.ndarray) -> np.ndarray:
    """The image cut to the box of its non-white pixels."""
    _, (top, bottom, left, right) = _ink(image)
    return image[top : image.shape[0] - bottom, left : image.shape[1] - right]


@pytest.mark.parametrize("name", ["constrained", "tight_layout", "colorbar", "past_edge", "image", "image_rows"])
def test_save_figure_crops_to_the_ink_in_half_the_drawing_passes(tmp_path: Path, name: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The PNG holds what ``bbox_inches="tight"`` writes, cropped to its ink: the same pixels where content reaches
    past the canvas (a label past its edge, or a title above an image that fills it: drawn on a canvas of the
    measured box's size, as matplotlib does), else the canvas cropped to its inked pixels with the padding around
    them: the same inked pixels within a pixel's shift (antialiasing at a sub-pixel offset), margins of exactly the
    padding (matplotlib's, from layout boxes, differ from it by a few pixels either way: a text's full ascent and
    descent, glyphs past their advance)."""
    from matplotlib.figure import Figure

    from latentwalk.figures import style as plots

    reference = _figures()[name]  # the project's style for both
    reference.savefig(tmp_path / "ref.png", bbox_inches="tight")
    passes = {"n": 0, "canvas": 0}
    draw, canvas_png = Figure.draw, plots._write_canvas_png

    def counted(self: Figure, renderer: object) -> None:
        passes["n"] += 1
        draw(self, renderer)

    def on_canvas(*args: object) -> None:
        passes["canvas"] += 1
        canvas_png(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(Figure, "draw", counted)
    monkeypatch.setattr(plots, "_write_canvas_png", on_canvas)
    save_figure(_figures()[name], tmp_path / "ours.png", tmp_path / "ours.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ours.png", "ours.svg", "ref.png"]  # no temporary left
    ours, ref = mpimg.imread(tmp_path / "ours.png"), mpimg.imread(tmp_path / "ref.png")
    if name in ("past_edge", "image"):
        assert passes == {"n": 3, "canvas": 0}  # the canvas, then one pass per file (bbox_inches="tight": 4)
        np.testing.assert_array_equal(ours, ref)
    else:
        assert passes == {"n": 2, "canvas": 1}  # one pass per file
        (n_ours, margins_ours), (n_ref, _) = _ink(ours), _ink(ref)
        pad = round(plots.style()["savefig.pad_inches"] * 120)
        assert all(abs(m - pad) <= 1 for m in margins_ours), margins_ours
        inked_ours, inked_ref = _inked(ours), _inked(ref)
        assert all(abs(a - b) <= 1 for a, b in zip(inked_ours.shape[:2], inked_ref.shape[:2]))
        if name != "image_rows":  # the reference's image is resampled at a sub-pixel offset; ours is not (below)
            assert abs(n_ours - n_ref) <= 0.002 * n_ref
            assert float(inked_ours[..., :3].mean()) == pytest.approx(float(inked_ref[..., :3].mean()), abs=2e-3)
    height, width = ours.shape[:2]
    size = re.search(r'<svg [^>]*width="([0-9.]+)pt" height="([0-9.]+)pt"', (tmp_path / "ours.svg").read_text())
    assert size is not None  # the SVG has the PNG's crop box (pixels at 120 dpi, points at 72 per inch)
    assert float(size.group(1)) == pytest.approx(width / 120 * 72, abs=1) and float(size.group(2)) == pytest.approx(height / 120 * 72, abs=1)
    if name in ("constrained", "past_edge"):
        assert width > {"constrained": 8, "past_edge": 4}[name] * 120  # the crop grows to hold what overflows


def test_save_figure_measures_a_text_placed_wholly_past_the_canvas(tmp_path: Path) -> None:
    """A text or legend placed wholly past the canvas leaves no ink on it: the figure is measured as
    ``bbox_inches="tight"`` does and the PNG holds the text, as it holds a label that crosses the edge."""
    from latentwalk.figures.style import new_subplots

    widths = {}
    for where in ("legend", "past"):
        fig, ax = new_subplots(figsize=(3, 2))  # no layout engine: it would make room for the legend
        fig.subplots_adjust(left=0.3, right=0.7, bottom=0.3, top=0.8)  # the axes' own ink well inside the canvas
        ax.plot([0, 1], [0, 1])
        if where == "past":
            fig.text(1.3, 0.5, "far right")
        else:
            ax.legend(["a line"], loc="center left", bbox_to_anchor=(1.9, 0.5))
        save_figure(fig, tmp_path / f"{where}.png")
        image = mpimg.imread(tmp_path / f"{where}.png")
        widths[where] = image.shape[1]
        assert _ink(image)[1][3] <= 30  # the ink reaches the right margin: the placed artist was drawn
    assert min(widths.values()) > 3 * 120 * 1.2


@pytest.mark.parametrize("margin", [0.0, 0.37, 1.01])
def test_image_rows_pixels_fall_on_png_pixels(tmp_path: Path, margin: float) -> None:
    """Whatever the label margins, each image pixel is a block of the same whole number of PNG pixels (nearest
    neighbour at a whole scale): across a row of black images with grey (0.5) separators every image and every
    separator is equally wide, and no pixel blends the two."""
    from latentwalk.figures.decoded import _mosaic_figure

    fig, ax, _, _ = _mosaic_figure([np.zeros((7, 5, 5, 1))], 0.3, left=margin, top=margin / 2, bottom=margin / 3)
    ax.set_xticks([])
    ax.set_yticks([])
    save_figure(fig, tmp_path / "m.png")
    grey = np.round(mpimg.imread(tmp_path / "m.png")[..., 0] * 255).astype(int)
    line = grey[grey.shape[0] // 2]
    line = line[line != 255]
    edges = np.flatnonzero(np.diff(line)) + 1
    runs = np.diff(np.concatenate([[0], edges, [len(line)]]))
    values = line[np.concatenate([[0], edges])]
    assert values.tolist() == [0, 128] * 6 + [0]
    assert len(set(runs[values == 0].tolist())) == 1 and len(set(runs[values == 128].tolist())) == 1, runs


@pytest.mark.parametrize(("margin", "channels"), [(0.0, 1), (0.37, 1), (1.01, 1), (0.0, 3), (0.37, 3)])
def test_mosaic_blocks_are_whole_pixel_blocks_at_the_nearest_pixel_borders(margin: float, channels: int) -> None:
    """A mosaic is drawn as its colour-mapped pixels repeated into blocks of whole canvas pixels, its corner at the
    pixel border nearest to its box's, at fractional margins too; where that box is whole pixels (no margin) this
    is pixel for pixel what matplotlib's ``imshow`` with nearest-neighbour resampling draws. At another resolution
    (no whole number of pixels per image pixel) matplotlib's own resampling draws it."""
    import math

    from latentwalk.figures.decoded import _block_image_type, _mosaic_figure
    from latentwalk.figures.style import style

    rows = [np.random.default_rng(k).random((5, 7, 6, channels)) for k in range(3)]

    def canvas(fig: object) -> np.ndarray:
        fig.canvas.draw()  # type: ignore[attr-defined]
        return np.asarray(fig.canvas.buffer_rgba()).copy()  # type: ignore[attr-defined]

    fig, ax, _, _ = _mosaic_figure(rows, 0.3, left=margin, top=margin / 2, bottom=margin / 3)
    ax.set_xticks([])  # nothing over the image
    ax.set_yticks([])
    fig.set_dpi(style()["savefig.dpi"])
    (image,) = ax.get_images()
    assert type(image) is _block_image_type()
    renderer = fig.canvas.get_renderer()
    assert image._blocks(renderer) is not None  # the block path draws it
    ours = canvas(fig)
    box = image.get_window_extent(renderer)
    data = image.get_array()
    scale = round(box.width / data.shape[1])
    assert scale >= 2 and abs(box.width - scale * data.shape[1]) < 1e-6 and abs(box.height - scale * data.shape[0]) < 1e-6
    blocks = np.repeat(np.repeat(image.to_rgba(data, bytes=True), scale, axis=0), scale, axis=1)
    left, top = math.floor(box.x0 + 0.5), ours.shape[0] - math.ceil(box.y1 - 0.5)  # rows from the canvas's top
    image.remove()
    expected = canvas(fig)
    expected[top : top + blocks.shape[0], left : left + blocks.shape[1]] = blocks  # an opaque image over the background
    np.testing.assert_array_equal(ours, expected)
    if margin == 0.0:  # a box of whole pixels: what imshow draws
        plain = ax.imshow(data, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        ax.set_aspect("auto")
        np.testing.assert_array_equal(ours, canvas(fig))
        plain.remove()
    ax.add_image(image)
    fig.set_dpi(97)
    assert image._blocks(fig.canvas.get_renderer()) is None  # 97 dpi: no whole number of pixels per image pixel


def test_svg_text_is_text_and_titles_sit_at_the_top_of_their_axes(tmp_path: Path) -> None:
    """SVG labels are ``<text>`` (editable, searchable), not glyph outlines; a title is placed at the top of its axes
    without the automatic placement's extra measuring."""
    from latentwalk.figures.style import new_subplots

    fig, ax = new_subplots(figsize=(3, 2), layout="constrained")
    ax.plot([0, 1], [2, 3])
    ax.set_title("a searchable title")
    assert ax.title.get_position()[1] == 1.0 and not ax._autotitlepos
    save_figure(fig, tmp_path / "t.png", tmp_path / "t.svg")
    svg = (tmp_path / "t.svg").read_text()
    assert "a searchable title" in svg and "<text" in svg


def test_plot_comparison_draws_each_dataset_after_checking_them_all(tmp_path: Path) -> None:
    """One job draws every dataset's comparison into one directory (PNG + SVG each); a dataset without runs is a
    one-line error naming the table, raised before anything is drawn."""
    from latentwalk.core.io import LatentwalkError
    from latentwalk.figures.comparison import plot_comparison

    lines = ["dataset,model,dim,kl_weight,test_reconstruction,test_kl,active_dims,outside_shell_lerp,confidence_lerp"]
    for dataset in ("digits", "lines"):
        for model, beta in (("ae", 0.0), ("vae", 1.0)):
            lines += [f"{dataset},{model},{dim},{beta},{30 - dim},{dim * beta},{dim},0.1,0.8" for dim in (2, 8)]
    runs = tmp_path / "runs.csv"
    runs.write_text("\n".join(lines) + "\n")
    plot_comparison(runs, {"digits": "classifier", "lines": "lines"}, tmp_path / "comparison")
    assert sorted(p.name for p in (tmp_path / "comparison").iterdir()) == ["digits.png", "digits.svg", "lines.png", "lines.svg"]
    _not_blank(tmp_path / "comparison" / "lines.png")
    with pytest.raises(LatentwalkError, match=rf"^{re.escape(str(runs))}: no runs of dataset 'views'$"):
        plot_comparison(runs, {"digits": "classifier", "views": "views"}, tmp_path / "none")
    assert not (tmp_path / "none").exists()


def test_legend_columns_fit_the_width_in_the_fewest_rows() -> None:
    """At 9 pt an entry is 0.35 in of handle and spacing plus 0.0875 in per character, columns 0.25 in apart, with
    0.225 in of padding: labels fill one row when it fits, else the fewest rows, spread evenly."""
    from latentwalk.figures.style import legend_columns

    short = ["lerp", "slerp", "geodesic"]  # entries 0.70, 0.79, 1.05 in: 2.54 + 0.50 + 0.225 = 3.265 in in one row
    assert legend_columns(short, 7, 3.3, 9.0) == 3
    assert legend_columns(short, 7, 3.2, 9.0) == 2  # two columns: [lerp, slerp], [geodesic]: 0.79 + 1.05 + 0.475
    assert legend_columns(short, 2, 10.0, 9.0) == 2  # never more than asked
    assert legend_columns(short, 7, 0.5, 9.0) == 1  # nothing fits: one column
    assert legend_columns([], 4, 5.0, 9.0) == 1
    seven = [f"walk {i}" for i in range(7)]  # 6 characters: 0.875 in each
    assert legend_columns(seven, 7, 7.9, 9.0) == 7  # 6.125 + 1.5 + 0.225 = 7.85 in
    assert legend_columns(seven, 7, 7.8, 9.0) == 4  # two rows, columns of 2, 2, 2, 1 entries: 4.475 in
    assert legend_columns(seven, 7, 4.4, 9.0) == 3  # three rows: 3, 2, 2 entries
