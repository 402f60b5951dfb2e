"""Unit tests of the geometry figures (figures_geometry) and the path-norm and quality figures (figures_quality).

Tables are computed with latentwalk.measure.norms / latentwalk.walks.pathset on tiny inputs (or
built with the same columns as the run artifacts), never read from results/.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from latentwalk.core.io import LatentwalkError
from latentwalk.figures import along_paths as Q
from latentwalk.figures import geometry as G
from latentwalk.figures import sphere as SP
from latentwalk.figures.style import save_figure
from latentwalk.measure import norms as S
from latentwalk.walks import interpolate, traverse

DIM = 8
STEPS = 9


def _render(fig: Any, tmp_path: Path, name: str = "figure") -> np.ndarray:
    """Save through save_figure, read the PNG back, check it is a plausible, non-blank image."""
    import matplotlib.image as mpimg

    png = tmp_path / f"{name}.png"
    save_figure(fig, png)
    img = mpimg.imread(png)
    assert img.ndim == 3 and img.shape[2] in (3, 4)
    h, w = img.shape[:2]
    assert 250 <= h <= 4000 and 400 <= w <= 4000, img.shape
    rgb = img[..., :3]
    assert float(rgb.std()) > 0.03, "image is (nearly) blank"
    assert float((rgb.min(axis=2) < 0.9).mean()) > 0.01, "almost no ink on the image"
    return img


def _texts(fig: Any) -> str:
    """Every title, label, legend entry and text of a figure, joined (for content checks)."""
    parts = [fig.get_suptitle() if hasattr(fig, "get_suptitle") else ""]
    for ax in fig.axes:
        parts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        parts += [t.get_text() for t in ax.texts]
        parts += [t.get_text() for t in ax.get_yticklabels()]
    for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        parts += [t.get_text() for t in legend.get_texts()]
    return "\n".join(parts)


# --------------------------------------------------------------------------- synthetic tables


@pytest.fixture(scope="module")
def concentration() -> tuple[pd.DataFrame, pd.DataFrame]:
    table, samples = S.concentration_table([1, 5, 50], 2000, 0)
    return table, S.norm_histograms(samples, bins=30)


def _path_frames(with_geodesic: bool = True, with_prior: bool = True) -> pd.DataFrame:
    """Concatenated path tables like the workflow's: encoded walks, prior pairs, and a t-less grid."""
    rng = np.random.default_rng(0)
    za, zb = rng.standard_normal((3, DIM)), rng.standard_normal((3, DIM))
    frames = []
    for name, made in (("lerp", interpolate.lerp(za, zb, STEPS)), ("slerp", interpolate.slerp(za, zb, STEPS)), ("lerp_matched", interpolate.lerp_matched(za, zb, STEPS))):
        frames.append(made.table().assign(method=name))
    if with_geodesic:  # stand-in for the decoder-dependent geodesic: a bent lerp
        bent = interpolate.lerp(za[:2], zb[:2], STEPS)
        bent.z = bent.z * (1.0 + 0.2 * np.sin(np.pi * bent.columns["t"]))[:, None]
        frames.append(bent.table().assign(method="geodesic"))
    if with_prior:
        frames.append(interpolate.prior_pairs(3, DIM, STEPS, np.random.default_rng(1)).table().assign(method="prior_pairs"))
    frames.append(_tless_grid())
    return pd.concat(frames, ignore_index=True)


def _tless_grid() -> pd.DataFrame:
    """A path kind without t (like grid / traverse_axis): must be ignored by the figures."""
    z = np.random.default_rng(2).standard_normal((4, DIM))
    return pd.DataFrame({"path_id": [0, 0, 1, 1], "step": [0, 1, 0, 1], "norm": np.linalg.norm(z, axis=1), "method": "grid"})


def _norms(**kw: bool) -> pd.DataFrame:
    return S.path_norm_table(_path_frames(**kw), DIM)


def _quality(kind: str, **kw: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """path_quality.csv / path_quality_summary.csv look-alikes for a lines, digits or views run; the geodesic's
    summary row carries its dense lengths (the figures note them after its name)."""
    q = _norms(**kw)[["method", "walk", "path_id", "step", "t"]].copy()
    rng = np.random.default_rng(3)
    bump = np.sin(np.pi * q["t"].fillna(0.5).to_numpy())
    if kind == "lines":
        q["line_distance"] = 0.002 + 0.01 * bump * rng.uniform(0.5, 1.5, len(q))
        q["line_angle"] = rng.uniform(0, 2 * np.pi, len(q))
        q["path_smoothness"] = rng.uniform(0.2, 0.9, len(q))
    elif kind == "views":
        q["view_distance"] = 0.01 + 0.05 * bump * rng.uniform(0.5, 1.5, len(q))
        q["same_object"] = True
    else:
        q["predicted"] = rng.integers(0, 10, len(q))
        q["confidence"] = 0.95 - 0.3 * bump * rng.uniform(0.5, 1.0, len(q))
        q["entropy"] = 0.1 + 0.8 * bump * rng.uniform(0.5, 1.0, len(q))
        q["nn_distance"] = 0.9 + 0.2 * bump
    rows = []
    for (method, walk), g in q.groupby(["method", "walk"], sort=False):
        row: dict[str, Any] = {"method": method, "walk": walk, "paths": g["path_id"].nunique(), "frames": len(g)}
        if kind == "lines":
            row.update(mean_distance=g["line_distance"].mean(), mean_distance_mid=g["line_distance"].max(), smoothness=g["path_smoothness"].mean(), smoothness_undefined=0)
        elif kind == "views":
            row.update(mean_distance=g["view_distance"].mean(), smoothness=1.5, identity_drift=0.1)
        else:
            row.update(confidence=g["confidence"].mean(), entropy=g["entropy"].mean(), entropy_mid=g["entropy"].max(), nn_distance=g["nn_distance"].mean())
        if method == "geodesic":
            row.update(dense_length=19.1, line_dense_length=20.6, length_ratio=19.1 / 20.6, not_shorter=0)
        rows.append(row)
    return q, pd.DataFrame(rows)


def _uniform_sphere(m: int, n: int, radius: float) -> np.ndarray:
    u = np.random.default_rng(4).standard_normal((m, n))
    return radius * u / np.linalg.norm(u, axis=1, keepdims=True)


# --------------------------------------------------------------------------- hypersphere


def test_hypersphere_figure_panels_and_maxima(tmp_path: Path) -> None:
    table = S.hypersphere_table(50)
    before = table.copy()
    fig = G.hypersphere_figure(table)
    assert len(fig.axes) == 4  # three panels plus the twin axis of the Gaussian masses
    annotations = {t.get_gid(): t for t in fig.axes[0].texts if t.get_gid()}
    assert annotations["max_volume"].xy[0] == 5
    assert annotations["max_volume"].xy[1] == pytest.approx(5.2638, abs=1e-3)
    assert "5.264" in annotations["max_volume"].get_text()
    assert annotations["max_surface"].xy[0] == 7
    assert annotations["max_surface"].xy[1] == pytest.approx(33.073, abs=1e-2)
    _render(fig, tmp_path)
    pd.testing.assert_frame_equal(table, before)  # pure: the input is not modified


def test_hypersphere_figure_thousands_of_dims_do_not_underflow(tmp_path: Path) -> None:
    fig = G.hypersphere_figure(S.hypersphere_table(2000))
    lo, hi = fig.axes[1].get_ylim()  # log panel carries log10 values: V_2000 ~ 10^-2000 stays finite
    assert np.isfinite([lo, hi]).all() and lo < -1000 < hi
    ratio = fig.axes[2].get_lines()[0].get_ydata()
    assert np.isfinite(ratio).all() and ratio.min() < -1000
    _render(fig, tmp_path)


# --------------------------------------------------------------------------- norm concentration


def test_norm_histogram_figure_one_panel_per_dim(concentration: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path) -> None:
    table, hist = concentration
    fig = G.norm_histogram_figure(hist, table)
    assert len(fig.axes) == 3
    assert [ax.get_title() for ax in fig.axes] == ["d = 1", "d = 5", "d = 50"]
    assert len(fig.legends) == 1  # one shared legend
    # vertical reference lines at sqrt(d) and the chi mean in each panel
    for ax, d in zip(fig.axes, (1, 5, 50)):
        xs = {round(float(line.get_xdata()[0]), 6) for line in ax.get_lines() if len(set(line.get_xdata())) == 1}
        assert round(np.sqrt(d), 6) in xs and round(float(S.chi_mean(d)), 6) in xs
    _render(fig, tmp_path)


def test_norm_histogram_figure_grid_layout_with_many_dims(tmp_path: Path) -> None:
    table, samples = S.concentration_table([1, 2, 3, 5, 10, 20, 50], 500, 0)
    fig = G.norm_histogram_figure(S.norm_histograms(samples, bins=20), table)
    assert len(fig.axes) == 7  # 2 x 4 grid, the empty slot removed
    _render(fig, tmp_path)


def test_shell_width_figure_handles_zero_shares(concentration: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path) -> None:
    table, _ = concentration
    assert (table["inside_unit_ball"] == 0).any()  # d = 50 with 2000 samples: none inside the unit ball
    fig = G.shell_width_figure(table)
    assert len(fig.axes) == 2
    assert fig.axes[0].get_xscale() == "log" and fig.axes[0].get_yscale() == "log"
    assert fig.axes[1].get_yscale() == "log"
    lo, hi = fig.axes[1].get_ylim()
    assert 0 < lo < 1.0 / 2000 < hi
    for line in fig.axes[1].get_lines():
        y = np.asarray(line.get_ydata(), dtype=float)
        assert np.isfinite(y).all() and (y > 0).all()
    assert "1/N" in _texts(fig)
    _render(fig, tmp_path)


# --------------------------------------------------------------------------- sphere spirals


def test_sphere_spiral_figure(tmp_path: Path) -> None:
    spiral = traverse.sphere_spiral(3, 200, loops=5).z
    fig = SP.sphere_spiral_figure(spiral, _uniform_sphere(300, 3, np.sqrt(3)), "Spiral on the sphere in R³")
    assert len(fig.axes) == 4
    assert fig.axes[0].name == "3d"
    assert [ax.get_title() for ax in fig.axes[1:]] == ["x₁ vs x₂", "x₁ vs x₃", "x₂ vs x₃"]
    for ax in fig.axes[1:]:
        assert ax.get_aspect() == 1.0
    _render(fig, tmp_path)


def test_sphere_spiral_figure_without_uniform_sample_and_bad_shape(tmp_path: Path) -> None:
    fig = SP.sphere_spiral_figure(traverse.sphere_spiral(3, 50).z, np.empty((0, 3)), "no background sample")
    _render(fig, tmp_path)
    with pytest.raises(LatentwalkError, match=r"\(m, 3\)"):
        SP.sphere_spiral_figure(np.zeros((10, 4)), np.empty((0, 3)), "wrong dim")


@pytest.mark.parametrize("n", [4, 5])
def test_sphere_projections_figure_panel_count(n: int, tmp_path: Path) -> None:
    fig = SP.sphere_projections_figure(traverse.sphere_spiral(n, 300, loops=4).z, f"Spiral in R^{n}")
    assert len(fig.axes) == n * (n - 1) // 2
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0] == "x₁ vs x₂" and titles[-1] == f"x{chr(0x2080 + n - 1)} vs x{chr(0x2080 + n)}"
    assert all(ax.get_aspect() == 1.0 for ax in fig.axes)
    _render(fig, tmp_path)


def test_sphere_projections_figure_refuses_too_many_dims() -> None:
    with pytest.raises(LatentwalkError, match="points must have shape"):
        SP.sphere_projections_figure(np.zeros((5, SP.MAX_PROJECTION_DIMS + 1)), "too many")


# --------------------------------------------------------------------------- path norms


def test_path_norm_figure_encoded_and_prior_panels(tmp_path: Path) -> None:
    norms = _norms()
    before = norms.copy()
    fig = Q.path_norm_figure(norms, DIM, "synthetic run")
    assert len(fig.axes) == 2
    text = _texts(fig)
    for needle in ("lerp", "slerp", "lerp_matched", "geodesic", "√d", "√(d/2)", "shell"):
        assert needle in text, needle
    lo, hi = S.shell_bounds(DIM)
    spans = [(p.get_y(), p.get_y() + p.get_height()) for p in fig.axes[0].patches]
    assert any(np.allclose(span, (lo, hi)) for span in spans)  # the chi(d) shell is shaded
    refs = {round(float(line.get_ydata()[0]), 6) for line in fig.axes[0].get_lines() if len(set(line.get_ydata())) == 1}
    assert {round(np.sqrt(DIM), 6), round(np.sqrt(DIM / 2), 6)} <= refs
    assert fig.axes[0].get_ylim()[1] >= hi > lo
    _render(fig, tmp_path)
    pd.testing.assert_frame_equal(norms, before)


@pytest.mark.parametrize(
    ("kw", "panels", "absent"),
    [
        ({"with_geodesic": False, "with_prior": False}, 1, "geodesic"),
        ({"with_geodesic": False, "with_prior": True}, 2, "geodesic"),
    ],
)
def test_path_norm_figure_missing_walks(kw: dict[str, bool], panels: int, absent: str, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fig = Q.path_norm_figure(_norms(**kw), DIM, "missing walks")
    assert len(fig.axes) == panels
    assert absent not in "\n".join(t.get_text() for t in fig.legends[0].get_texts())
    assert _on_canvas(fig, tmp_path, monkeypatch)  # one panel's legend wraps to stay within it


def test_path_norm_figure_only_prior_pairs_or_nothing(tmp_path: Path) -> None:
    norms = _norms()
    prior_only = norms[norms["method"] == "prior_pairs"]
    assert len(Q.path_norm_figure(prior_only, DIM, "prior only").axes) == 1
    nothing = norms[norms["method"] == "grid"]
    fig = Q.path_norm_figure(nothing, DIM, "no interpolations")
    assert len(fig.axes) == 1 and "no interpolation paths" in _texts(fig)
    _render(fig, tmp_path)


# --------------------------------------------------------------------------- quality


QualityFigure = Callable[[pd.DataFrame, pd.DataFrame, str], Any]


def _on_canvas(fig: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str = "figure") -> bool:
    """Save the figure (as :func:`_render`); whether its PNG came from the canvas it was laid out on, i.e. nothing
    of it reached past that canvas (else save_figure draws it again on a larger one)."""
    from latentwalk.figures import style as plots

    calls: list[object] = []
    write = plots._write_canvas_png
    monkeypatch.setattr(plots, "_write_canvas_png", lambda *a: (calls.append(a), write(*a)))  # type: ignore[func-returns-value]
    _render(fig, tmp_path, name)
    return bool(calls)


def _labels_shown(ax: Any) -> bool:
    return any(tick.label1.get_visible() for tick in ax.yaxis.get_major_ticks())


@pytest.mark.parametrize(("kind", "make", "panels"), [("lines", Q.line_quality_figure, 3), ("digits", Q.digit_quality_figure, 3),
                                                      ("views", Q.view_quality_figure, 4)])
def test_quality_figures(kind: str, make: QualityFigure, panels: int, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    quality, summary = _quality(kind)
    fig = make(quality, summary, f"synthetic {kind} run")
    assert len(fig.axes) == panels
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    geodesic = "geodesic (length 19.1 vs line 20.6, 0.93×)"
    assert legend == ["lerp", "slerp", "lerp_matched", geodesic, "prior lerp", "prior slerp", "prior lerp_matched"]
    # the first bar panel names the walks (the legend's, in its order); the bar panels right of it sit on its rows
    first = 2 if kind == "digits" else 1
    assert [t.get_text() for t in fig.axes[first].get_yticklabels()] == legend
    assert [_labels_shown(ax) for ax in fig.axes[first:]] == [True] + [False] * (panels - first - 1)
    assert all(len(ax.patches) == len(legend) for ax in fig.axes[first:])  # a bar per walk in every panel
    assert "grid" not in _texts(fig)  # walks without t are not interpolations
    # no label reaches past the canvas (the bar labels once stood beside every panel, an x label overhung the last)
    assert _on_canvas(fig, tmp_path, monkeypatch, kind)


def test_bar_panels_keep_their_labels_beside_an_empty_one(tmp_path: Path) -> None:
    """A bar panel whose neighbour shows other walks (here none: its column is missing) names its own walks."""
    quality, summary = _quality("views", with_prior=False)
    fig = Q.view_quality_figure(quality, summary.drop(columns="smoothness"), "no smoothness")
    assert "no 'smoothness' in the summary" in _texts(fig)
    assert _labels_shown(fig.axes[1]) and _labels_shown(fig.axes[3])
    _render(fig, tmp_path)


@pytest.mark.parametrize(("kind", "make"), [("lines", Q.line_quality_figure), ("digits", Q.digit_quality_figure)])
def test_quality_figures_without_optional_walks(kind: str, make: QualityFigure, tmp_path: Path) -> None:
    quality, summary = _quality(kind, with_geodesic=False, with_prior=False)
    fig = make(quality, summary, f"{kind} run without geodesic or prior pairs")
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend == ["lerp", "slerp", "lerp_matched"]
    _render(fig, tmp_path, kind)


def test_line_quality_figure_with_bar_only_summary_gap(tmp_path: Path) -> None:
    """A summary missing a walk drops its bar but keeps the others; no crash."""
    quality, summary = _quality("lines")
    fig = Q.line_quality_figure(quality, summary[summary["walk"] != "slerp"], "summary without slerp")
    assert "slerp" not in [t.get_text() for t in fig.axes[1].get_yticklabels()]
    _render(fig, tmp_path)


def test_the_geometry_figure_job_draws_every_geometry_figure(concentration: tuple[pd.DataFrame, pd.DataFrame],
                                                              tmp_path: Path) -> None:
    """Rule plot_geometry: every geometry figure (PNG and SVG) in one directory, from the geometry tables and the
    unit-sphere spirals."""
    from latentwalk.figures.geometry import plot_geometry
    from latentwalk.walks.traverse import unit_sphere_spiral

    table, hist = concentration
    S.hypersphere_table(30).to_csv(tmp_path / "hypersphere.csv", index=False)
    table.to_csv(tmp_path / "norm_concentration.csv", index=False)
    hist.to_csv(tmp_path / "norm_histograms.csv", index=False)
    spirals = {n: str(tmp_path / f"spiral{n}.parquet") for n in (3, 4)}
    for n, path in spirals.items():
        unit_sphere_spiral(n, 100, 3.0, 50, 0, path)
    tables = [str(tmp_path / f"{name}.csv") for name in ("hypersphere", "norm_concentration", "norm_histograms")]
    plot_geometry(spirals, *tables, tmp_path / "geometry")
    stems = ("hypersphere", "norm_histograms", "shell_width", "unit_sphere_spiral_n3", "unit_sphere_spiral_n4")
    assert sorted(p.name for p in (tmp_path / "geometry").iterdir()) == sorted(f"{s}.{e}" for s in stems for e in ("png", "svg"))
    for path in (tmp_path / "geometry").iterdir():
        assert path.stat().st_size > 1000, path.name


@pytest.mark.parametrize("d", [0.5, 1.0, 3.0, 16.0, 100.0, 200.0])
def test_log10_chi2_cdf_at_1_equals_scipy(d: float) -> None:
    """log10 P(chi2_d <= 1), drawn by the shell-width figure, as scipy computes it (where scipy's value is finite)."""
    from scipy import stats

    expected = np.log10(stats.chi2.cdf(1.0, d))
    assert float(G._log10_chi2_cdf_at_1(np.array([d]))[0]) == pytest.approx(expected, rel=1e-12)
    assert np.isfinite(G._log10_chi2_cdf_at_1(np.array([1e6]))).all()  # far past float underflow: still finite
