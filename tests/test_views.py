"""Synthetic object views: conventions, exact shading, depth order, symmetry and determinism."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _helpers import one_line
from hypothesis import example, given, settings
from hypothesis import strategies as st

from latentwalk.core.io import LatentwalkError
from latentwalk.data import views
from latentwalk.data.views import (
    AMBIENT,
    LIGHT,
    OBJECTS,
    _box,
    _Cylinder,
    _objects,
    _render_scene,
    coverage,
    render_view,
    render_views,
)

#: An x-mirror-symmetric test scene (box, box on the z axis, cylinder on the z axis): a -> -a mirrors its silhouette.
X_SYMMETRIC = [_box((-0.31, -0.23, -0.17), (0.31, 0.23, 0.17)), _box((-0.1, 0.23, 0.2), (0.1, 0.5, 0.6)),
               _Cylinder(0.0, -0.3, 0.2, -0.6, 0.1)]
CUBE = [_box((-0.5, -0.5, -0.5), (0.5, 0.5, 0.5))]
SIDE_AZIMUTHS = np.linspace(0.0, 2 * np.pi, 12, endpoint=False) + 0.1


def lambert(normal_cam: tuple[float, float, float]) -> float:
    """Hand-computed intensity of a face with this unit normal in camera coordinates."""
    return AMBIENT + (1 - AMBIENT) * max(0.0, float(np.dot(normal_cam, LIGHT)))


def pixel(u: float, v: float, size: int) -> tuple[int, int]:
    """(row, column) of the pixel containing camera-plane point (u right, v up); the unit ball spans 0.9 * size."""
    scale = 0.45 * size
    return math.floor(size / 2 - v * scale), math.floor(size / 2 + u * scale)


def one(primitives: list, azimuth: float, elevation: float, size: int = 32, supersample: int = 4,
        shade: bool = True) -> np.ndarray:
    """One view of a private test scene."""
    return _render_scene(primitives, np.array([azimuth]), np.array([elevation]), size, supersample, shade)[0]


def test_constants_follow_the_documented_conventions() -> None:
    assert OBJECTS == ("chair", "lblock", "mug", "house") and AMBIENT == 0.2
    assert set(_objects()) == set(OBJECTS)  # every registry name is built
    np.testing.assert_allclose(LIGHT, np.array([-0.5, 0.6, 0.8]) / math.sqrt(1.25), rtol=0, atol=1e-15)


def test_shapes_range_determinism_and_single_view(monkeypatch: pytest.MonkeyPatch) -> None:
    names = list(OBJECTS) * 2
    az, el = np.linspace(-3.0, 9.0, 8), np.linspace(-1.2, 1.4, 8)
    images, silhouettes = render_views(names, az, el, 24), coverage(np.array(names), az, el, 24)
    for array in (images, silhouettes):
        assert array.shape == (8, 24, 24) and array.dtype == np.float32
        assert array.min() == 0.0 and array.max() <= 1.0
    assert (images.max(axis=(1, 2)) > 0.5).all() and (silhouettes.max(axis=(1, 2)) == 1.0).all()
    assert render_views(names, az, el, 24).tobytes() == images.tobytes()
    for k, name in enumerate(names):
        assert np.array_equal(render_view(name, az[k], el[k], 24), images[k])
    assert np.array_equal(render_views("mug", az, el, 24)[2], images[2])  # one name applies to every image
    assert render_views([], np.array([]), np.array([]), 24).shape == (0, 24, 24)
    monkeypatch.setattr(views, "_BLOCK", 100)  # one image per batch, few rows per work array: same bytes
    assert render_views(names, az, el, 24).tobytes() == images.tobytes()


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(OBJECTS), st.floats(-10, 10), st.floats(-math.pi / 2, math.pi / 2), st.integers(0, 3))
@example("chair", 1.8713069349903561e-165, 0.0, 0)  # nearly parallel planes once gave inf - inf = nan depths
@example("mug", 0.3, 1e-200, 1)
@example("house", 0.0, math.pi / 2, 3)
def test_shading_lies_between_ambient_and_full_coverage(name: str, azimuth: float, elevation: float, slot: int) -> None:
    """Every hit sub-sample has intensity in [AMBIENT, 1], so AMBIENT * coverage <= image <= coverage; and a view is
    the same bytes whatever images it is rendered with."""
    others = np.array([0.3, -2.0, 5.0])
    az, el = np.insert(others, slot, azimuth), np.insert(others / 3, slot, elevation)
    names = [OBJECTS[k % 4] for k in range(3)]
    names.insert(slot, name)
    image, silhouette = render_views(names, az, el, 16, 2)[slot], coverage(names, az, el, 16, 2)[slot]
    assert np.array_equal(image, render_view(name, azimuth, elevation, 16, 2))
    assert (image >= AMBIENT * silhouette - 1e-6).all() and (image <= silhouette + 1e-6).all()
    assert silhouette.sum() > 8  # the smallest view (the chair, level, side on) covers 10.5 px at size 16


def test_objects_stay_inside_the_disc_at_every_angle() -> None:
    az, el = np.meshgrid(np.linspace(0, 2 * np.pi, 16, endpoint=False), np.linspace(-np.pi / 2, np.pi / 2, 7))
    size = 32
    rows, cols = np.indices((size, size)) + 0.5 - size / 2
    outside = np.hypot(rows, cols) > 0.45 * size + 0.75  # no pixel of these can meet the 0.9 * size disc
    for name in OBJECTS:
        silhouettes = coverage(name, az.ravel(), el.ravel(), size, 2)
        assert silhouettes[:, outside].max() == 0.0, name


def test_silhouette_area_changes_with_azimuth_and_is_periodic() -> None:
    for name in OBJECTS:
        areas = coverage(name, SIDE_AZIMUTHS, np.full(12, 0.35), 32).sum(axis=(1, 2))
        assert areas.max() / areas.min() > 1.1, name
        base = render_views(name, SIDE_AZIMUTHS, np.full(12, 0.35), 32)
        for turn in (2 * np.pi, -4 * np.pi):
            np.testing.assert_allclose(render_views(name, SIDE_AZIMUTHS + turn, np.full(12, 0.35), 32), base, atol=1e-6)


def test_no_object_is_rotationally_symmetric() -> None:
    """Mean absolute difference between views a quarter and a half turn apart, at 12 azimuths, seen from above
    and from below (0.35 rad). Threshold 0.005 = 5 full-intensity pixels of a 32 x 32 image; the smallest part that
    breaks a symmetry (the chimney, 2 x 4 px) clears it, and a centred cylinder (truly symmetric) scores < 1e-6."""
    elevations = np.full(12, 0.35)
    for elevation in (0.35, -0.35):
        for name in OBJECTS:
            base = render_views(name, SIDE_AZIMUTHS, elevations * np.sign(elevation), 32)
            for turn in (np.pi / 2, np.pi):
                turned = render_views(name, SIDE_AZIMUTHS + turn, elevations * np.sign(elevation), 32)
                assert np.abs(turned - base).mean(axis=(1, 2)).min() > 0.005, (name, elevation, turn)
    cylinder = [_Cylinder(0.0, 0.0, 0.5, -0.6, 0.5)]
    base = _render_scene(cylinder, SIDE_AZIMUTHS, elevations, 32)
    for turn in (np.pi / 2, np.pi):
        assert np.abs(_render_scene(cylinder, SIDE_AZIMUTHS + turn, elevations, 32) - base).max() < 1e-6
    # Seen exactly level, the x-symmetric chair shows only faces facing the camera: front and back views coincide.
    np.testing.assert_allclose(render_view("chair", np.pi, 0.0, 32), render_view("chair", 0.0, 0.0, 32), atol=1e-6)


def test_opposite_level_views_are_mirrored_silhouettes() -> None:
    """Seen level from the opposite side, any silhouette is flipped left-right (the sample grid is symmetric)."""
    box = [_box((-0.31, -0.23, -0.17), (0.31, 0.23, 0.17))]
    assert np.abs(one(box, np.pi, 0.0, shade=False) - one(box, 0.0, 0.0, shade=False)[:, ::-1]).max() <= 1e-6
    turned = [_box((-0.31, -0.23, -0.17), (0.31, 0.23, 0.17), yaw=0.4)]
    assert np.abs(one(turned, 0.9 + np.pi, 0.0, shade=False) - one(turned, 0.9, 0.0, shade=False)[:, ::-1]).max() <= 1e-6
    level = np.zeros(12)
    for name in OBJECTS:
        diff = coverage(name, SIDE_AZIMUTHS + np.pi, level, 32) - coverage(name, SIDE_AZIMUTHS, level, 32)[:, :, ::-1]
        assert np.abs(diff).max() <= 1e-6, name


@settings(max_examples=100, deadline=None)
@given(st.floats(-7, 7), st.floats(-math.pi / 2, math.pi / 2))
def test_x_symmetric_scenes_mirror_under_negated_azimuth(azimuth: float, elevation: float) -> None:
    mirrored = one(X_SYMMETRIC, -azimuth, elevation, 24, 3, shade=False)[:, ::-1]
    assert np.abs(one(X_SYMMETRIC, azimuth, elevation, 24, 3, shade=False) - mirrored).max() <= 1e-6
    chair = coverage(["chair"] * 2, np.array([azimuth, -azimuth]), np.full(2, elevation), 24, 3)
    assert np.abs(chair[0] - chair[1][:, ::-1]).max() <= 1e-6


def test_mirror_test_fails_for_an_asymmetric_object() -> None:
    silhouettes = coverage("lblock", np.array([0.7, -0.7]), np.full(2, 0.3), 32)
    assert np.abs(silhouettes[0] - silhouettes[1][:, ::-1]).sum() > 20


def test_nearer_box_occludes_the_farther_one() -> None:
    """Box A faces the camera (+z); box B is a thin plate turned 0.3 rad about y. Seen head-on, the overlap shows
    whichever is nearer, with that face's hand-computed Lambertian value, whatever order they are listed in."""
    yaw = 0.3
    shade_a, shade_b = lambert((0.0, 0.0, 1.0)), lambert((math.sin(yaw), 0.0, math.cos(yaw)))
    assert abs(shade_a - shade_b) > 0.05

    def scene(z_a: float, z_b: float) -> list:
        return [_box((-0.3, -0.3, z_a - 0.1), (0.15, 0.15, z_a + 0.1)),
                _box((-0.15, -0.15, z_b - 0.04), (0.35, 0.35, z_b + 0.04), yaw=yaw)]

    overlap, only_a, only_b = pixel(0.03, 0.03, 32), pixel(-0.25, -0.25, 32), pixel(0.25, 0.25, 32)
    for (z_a, z_b), seen in (((0.4, -0.3), shade_a), ((-0.4, 0.3), shade_b)):
        image = one(scene(z_a, z_b), 0.0, 0.0)
        assert np.array_equal(image, one(scene(z_a, z_b)[::-1], 0.0, 0.0))
        assert image[overlap] == pytest.approx(seen, abs=1e-6)
        assert image[only_a] == pytest.approx(shade_a, abs=1e-6) and image[only_b] == pytest.approx(shade_b, abs=1e-6)


@pytest.mark.parametrize(("size", "supersample"), [(32, 4), (45, 3), (40, 1)])
def test_cube_face_on_has_the_lambertian_value_and_the_projected_area(size: int, supersample: int) -> None:
    image, silhouette = one(CUBE, 0.0, 0.0, size, supersample), one(CUBE, 0.0, 0.0, size, supersample, shade=False)
    side = 0.45 * size  # the unit cube's face, in pixels
    full = silhouette == 1.0
    inside = math.floor(size / 2 + side / 2) - math.ceil(size / 2 - side / 2)  # pixels wholly within the face
    touched = math.ceil(size / 2 + side / 2) - math.floor(size / 2 - side / 2)  # pixels meeting it
    assert inside**2 <= full.sum() and (silhouette > 0).sum() <= touched**2
    np.testing.assert_allclose(image[full], lambert((0.0, 0.0, 1.0)), rtol=0, atol=1e-6)
    np.testing.assert_allclose(image, silhouette * lambert((0.0, 0.0, 1.0)), rtol=0, atol=1e-6)
    # Samples inside an interval of length L (in sample spacings) number within 1 of L, per axis.
    assert abs(silhouette.sum() - side**2) <= 2 * side / supersample + 1 / supersample**2


def test_cube_corner_and_elevated_views_show_the_expected_faces() -> None:
    size, s = 32, math.sqrt(0.5)
    diagonal, silhouette = one(CUBE, np.pi / 4, 0.0), one(CUBE, np.pi / 4, 0.0, shade=False)
    assert diagonal[pixel(-0.3, 0.0, size)] == pytest.approx(lambert((-s, 0.0, s)), abs=1e-6)  # +z face on the left
    assert diagonal[pixel(0.3, 0.0, size)] == pytest.approx(lambert((s, 0.0, s)), abs=1e-6)  # +x face on the right
    width, height = math.sqrt(2) * 0.45 * size, 0.45 * size
    assert abs(silhouette.sum() - width * height) <= (width + height) / 4 + 1 / 16
    above, below = one(CUBE, 0.0, np.pi / 4), one(CUBE, 0.0, -np.pi / 4)
    assert above[pixel(0.0, 0.35, size)] == pytest.approx(lambert((0.0, s, s)), abs=1e-6)  # top face, upper half
    assert above[pixel(0.0, -0.35, size)] == pytest.approx(lambert((0.0, -s, s)), abs=1e-6)  # front face, lower
    assert below[pixel(0.0, 0.35, size)] == pytest.approx(lambert((0.0, s, s)), abs=1e-6)  # front face, upper
    assert below[pixel(0.0, -0.35, size)] == pytest.approx(lambert((0.0, -s, s)), abs=1e-6)  # bottom face, lower


def test_elevation_changes_the_view_and_from_above_the_chair_is_its_seat() -> None:
    az = np.array([0.0, 0.5, 2.0])
    seat = [_box((-0.45, -0.1, -0.45), (0.45, 0.0, 0.45))]
    top = coverage("chair", az, np.full(3, np.pi / 2), 32)
    assert np.array_equal(top, _render_scene(seat, az, np.full(3, np.pi / 2), 32, shade=False))
    assert abs(top[0].sum() - (0.9 * 0.45 * 32) ** 2) <= 2 * 0.9 * 0.45 * 32 / 4 + 1 / 16
    nearly_top, side = coverage("chair", az, np.full(3, np.pi / 2 - 0.05), 32), coverage("chair", az, np.zeros(3), 32)
    assert np.abs(nearly_top - top).mean() < 0.02 < np.abs(nearly_top - side).mean()
    for name in OBJECTS:
        low, level, high = (render_views(name, az, np.full(3, e), 32) for e in (-0.6, 0.0, 0.6))
        for a, b in ((low, level), (level, high), (low, high)):
            assert np.abs(a - b).mean(axis=(1, 2)).min() > 0.01, name


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"objects": ["chair", "sofa"]}, "'sofa'"),
        ({"size": 7}, "7"),
        ({"size": 16.0}, "16.0"),
        ({"supersample": 0}, "supersample"),
        ({"azimuths": np.array([0.1, np.nan])}, "azimuths[1]"),
        ({"elevations": np.array([np.inf, 0.0])}, "inf"),
        ({"elevations": np.zeros(3)}, "3 elevations"),
    ],
)
def test_bad_arguments_raise_one_line_errors(kwargs: dict, needle: str) -> None:
    args = {"objects": ["chair", "mug"], "azimuths": np.zeros(2), "elevations": np.zeros(2), "size": 16,
            "supersample": 2, **kwargs}
    for fn in (render_views, coverage):
        with pytest.raises(LatentwalkError) as excinfo:
            fn(**args)
        one_line(excinfo, needle)
    with pytest.raises(LatentwalkError) as excinfo:
        render_view("chair", 0.0, 0.0, 16, supersample=0)
    one_line(excinfo, "supersample", "0")


def test_camera_orientation_follows_the_convention() -> None:
    """A marker box off the origin lands where the documented camera axes put it (row 0 is the top)."""
    def centre(primitives: list, azimuth: float, elevation: float = 0.0) -> tuple[float, float]:
        silhouette = one(primitives, azimuth, elevation, shade=False)
        rows, cols = np.indices(silhouette.shape) + 0.5 - 16
        return float((cols * silhouette).sum() / silhouette.sum()), float((rows * silhouette).sum() / silhouette.sum())

    def marker(x: float, y: float, z: float) -> list:
        return [_box((x - 0.1, y - 0.1, z - 0.1), (x + 0.1, y + 0.1, z + 0.1))]

    shift = 0.6 * 0.45 * 32  # pixels
    for primitives, azimuth, elevation, expected in [
        (marker(0.6, 0, 0), 0.0, 0.0, (shift, 0.0)),  # +x is image right at azimuth 0
        (marker(0, 0.6, 0), 0.0, 0.0, (0.0, -shift)),  # +y is up: towards row 0
        (marker(0, 0, 0.6), np.pi / 2, 0.0, (-shift, 0.0)),  # counter-clockwise from above: +z goes left
        (marker(0, 0, 0.6), -np.pi / 2, 0.0, (shift, 0.0)),
        (marker(0, 0, 0.6), 0.0, np.pi / 4, (0.0, shift * math.sqrt(0.5))),  # looking down: the near side drops
    ]:
        np.testing.assert_allclose(centre(primitives, azimuth, elevation), expected, atol=0.05)


def test_culling_is_conservative(monkeypatch: pytest.MonkeyPatch) -> None:
    az, el = np.linspace(0, 6, 10), np.linspace(-1.5, 1.5, 10)
    names = [OBJECTS[k % 4] for k in range(10)]
    images, silhouettes = render_views(names, az, el, 20, 3), coverage(names, az, el, 20, 3)
    monkeypatch.setattr(views, "_rect", lambda p, cam, coords: (0, len(coords), 0, len(coords)))
    assert render_views(names, az, el, 20, 3).tobytes() == images.tobytes()
    assert coverage(names, az, el, 20, 3).tobytes() == silhouettes.tobytes()


def sample_grid(size: int, supersample: int) -> np.ndarray:
    """Camera-plane coordinates of the sample centres along one image axis (left to right)."""
    side = size * supersample
    return (np.arange(side) + 0.5 - side / 2) * 2 / (0.9 * side)


def test_cylinder_side_and_cap_shading_match_a_hand_computation() -> None:
    """Seen level at azimuth 0, the side's normal at camera-plane u is (u / r, 0, sqrt(1 - (u / r)^2)); from 0.5 rad
    above, the top cap's normal is (0, cos 0.5, sin 0.5) in camera coordinates."""
    radius, size, ss = 0.5, 32, 4
    cylinder = [_Cylinder(0.0, 0.0, radius, -0.6, 0.6)]
    u = sample_grid(size, ss)
    inside = np.abs(u) < radius
    normals = np.stack([u / radius, np.zeros_like(u), np.sqrt(np.clip(1 - (u / radius) ** 2, 0, None))], axis=1)
    per_sample = np.where(inside, [lambert(tuple(n)) for n in normals], 0.0)
    expected_row = per_sample.reshape(size, ss).mean(axis=1)
    image = one(cylinder, 0.0, 0.0, size, ss)
    np.testing.assert_allclose(image[16], expected_row, rtol=0, atol=2e-6)
    above = one(cylinder, 0.3, 0.5, size, ss)
    assert above[pixel(0.0, 0.55, size)] == pytest.approx(lambert((0.0, math.cos(0.5), math.sin(0.5))), abs=1e-6)


def test_hollow_cylinder_matches_a_reference_ray_cast() -> None:
    """The mug's open body: from below it is the solid cylinder; from above, an independent float64 ray cast of its
    inner wall and floor gives every pixel of the opening."""
    size, ss, elevation = 32, 4, 1.0
    solid, hollow = [_Cylinder(0.0, 0.0, 0.5, -0.5, 0.5)], [_Cylinder(0.0, 0.0, 0.5, -0.5, 0.5, inner=0.4, floor=-0.3)]
    for azimuth in (0.0, 1.0):
        assert np.array_equal(one(hollow, azimuth, -elevation, size, ss), one(solid, azimuth, -elevation, size, ss))
        silhouettes = [one(scene, azimuth, elevation, size, ss, shade=False) for scene in (hollow, solid)]
        assert np.array_equal(*silhouettes)
    ce, se = math.cos(elevation), math.sin(elevation)
    x_cam, y_cam, z_cam = np.array([1.0, 0, 0]), np.array([0, ce, -se]), np.array([0, se, ce])
    g = sample_grid(size, ss)
    u, v = np.meshgrid(g, -g)
    origin = u[..., None] * x_cam + v[..., None] * y_cam
    direction = -z_cam
    t_top = (0.5 - origin[..., 1]) / direction[1]
    entry = origin + t_top[..., None] * direction
    in_opening = np.hypot(entry[..., 0], entry[..., 2]) < 0.4
    a = direction[2] ** 2  # direction has no x component at azimuth 0
    b = origin[..., 2] * direction[2]
    c = origin[..., 0] ** 2 + origin[..., 2] ** 2 - 0.4**2
    t_wall = (-b + np.sqrt(np.clip(b * b - a * c, 0, None))) / a
    wall = origin + t_wall[..., None] * direction
    on_wall = wall[..., 1] >= -0.3  # else the ray reaches the floor first
    assert (in_opening & on_wall).sum() > 100 and (in_opening & ~on_wall).sum() > 100
    normal = np.where(on_wall[..., None], -wall * [1, 0, 1] / 0.4, [0.0, 1.0, 0.0])
    cam_normal = np.stack([normal @ x_cam, normal @ y_cam, normal @ z_cam], axis=-1)
    shade = AMBIENT + (1 - AMBIENT) * np.clip(cam_normal @ np.array(LIGHT), 0, None)
    opening = in_opening.reshape(size, ss, size, ss).all(axis=(1, 3))
    expected = shade.reshape(size, ss, size, ss).mean(axis=(1, 3))
    assert opening.sum() > 40
    np.testing.assert_allclose(one(hollow, 0.0, elevation, size, ss)[opening], expected[opening], rtol=0, atol=1e-5)
