"""Views of a few asymmetric 3-D objects, grey or in one colour per object: exact ground truth for viewpoint interpolation.

A small pure-numpy ray caster. Conventions:

* World: y up. Each object (:data:`OBJECTS`) is built from convex primitives (boxes, oriented boxes, a roof prism,
  y-axis capped cylinders, one hollowed as a mug) and lies within the unit ball (|p| <= 1), roughly centred; there
  is no floor. No object is rotationally symmetric about y, and every silhouette changes with the azimuth.
* Camera: orthographic, orbiting the origin. ``azimuth`` (radians) turns it about the world y axis, counter-clockwise
  seen from above; azimuth 0 puts it on the +z axis looking towards -z (image right = +x, up = +y). ``elevation``
  lifts it above the horizontal plane (positive = looking down). In camera coordinates the camera looks along
  -z_cam; its axes in world coordinates are x_cam = (cos a, 0, -sin a), y_cam = (-sin e sin a, cos e, -sin e cos a),
  z_cam = (cos e sin a, sin e, cos e cos a). Image row 0 is the top. The unit ball maps to a centred disc of
  diameter 0.9 * size pixels, so nothing is cut off at any angle.
* Sampling: each pixel has a ``supersample`` x ``supersample`` grid of parallel rays through the centres of its
  sub-cells; the pixel value is their mean, so edge pixels take partial values. The grid is symmetric about the
  image centre (a left-right flip maps sample centres onto sample centres).
* Shading: Lambertian, intensity = AMBIENT + (1 - AMBIENT) * max(0, n . l) at the nearest hit (depth-ordered
  across all primitives; n its outward normal), with AMBIENT = 0.2 and l = normalised (-0.5, 0.6, 0.8) fixed in the
  camera frame (light from the upper left front). Background is 0. :func:`coverage` returns the unshaded
  silhouette (share of sub-samples hitting the object). With flat faces and a camera-fixed light, a mirror-symmetric
  object seen exactly level along its mirror plane looks the same (chair: azimuths 0, pi) or nearly so (mug: +-pi/2)
  from both sides.

Rendering is pure and deterministic: every value is computed element-wise (camera angles with :mod:`math`), so the
same arguments give byte-identical output however the images are batched. Images of one object are rendered
together, sorted by azimuth, with each primitive tested only inside its projected bounding rectangle.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from latentwalk.core.io import LatentwalkError
from latentwalk.core.registry import VIEW_OBJECTS

__all__ = ["AMBIENT", "LIGHT", "OBJECTS", "OBJECT_COLOURS", "colourise", "coverage", "render_view", "render_views"]

#: The built-in objects, in this order.
#: The objects this module can draw: the registry's names (each is built in ``_objects``; a test checks both match).
OBJECTS: tuple[str, ...] = VIEW_OBJECTS
#: Each object's surface colour (linear RGB in [0, 1]) in colour views: the shading scales it.
OBJECT_COLOURS: dict[str, tuple[float, float, float]] = {
    "chair": (0.95, 0.45, 0.20),
    "lblock": (0.30, 0.60, 1.00),
    "mug": (0.35, 0.85, 0.35),
    "house": (1.00, 0.85, 0.25),
}
#: Ambient term of the Lambertian shading.
AMBIENT = 0.2
#: Unit light direction in camera coordinates (towards the light: upper left, in front of the object).
LIGHT: tuple[float, float, float] = (-0.5 / math.sqrt(1.25), 0.6 / math.sqrt(1.25), 0.8 / math.sqrt(1.25))
_DIAMETER = 0.9  # image fraction covered by the unit ball
_TINY = 1e-20  # least |n . d|: keeps depths of (nearly) parallel planes finite in float32
_BLOCK = 1 << 18  # float32 elements per work array


@dataclass(frozen=True)
class _Slabs:
    """Convex polytope: lo[j] <= normals[j] . p <= hi[j] for every row j (unit normals; lo/hi may be -inf/inf)."""

    normals: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    corners: np.ndarray  # points whose convex hull contains the primitive (for culling)


@dataclass(frozen=True)
class _Cylinder:
    """Capped y-axis cylinder around (cx, cz); if ``inner`` > 0 it is hollowed to that radius above y = ``floor``."""

    cx: float
    cz: float
    radius: float
    y0: float
    y1: float
    inner: float = 0.0
    floor: float = 0.0


_Primitive = _Slabs | _Cylinder
_Hit = tuple[np.ndarray, np.ndarray, np.ndarray | None]  # entry depth, hit mask, shade (None: not shaded)


def _box(lo: Sequence[float], hi: Sequence[float], yaw: float = 0.0) -> _Slabs:
    """Box with corners ``lo``/``hi``, turned by ``yaw`` (radians, counter-clockwise from above) about its centre."""
    c, s = math.cos(yaw), math.sin(yaw)
    normals = np.array([[c, 0.0, -s], [0.0, 1.0, 0.0], [s, 0.0, c]])
    centre, half = (np.asarray(lo, float) + hi) / 2, (np.asarray(hi, float) - lo) / 2
    offset = (normals * centre).sum(axis=1)  # element-wise, not BLAS: the same bits on every machine
    signs = np.array([[i, j, k] for i in (-1, 1) for j in (-1, 1) for k in (-1, 1)], float)
    return _Slabs(normals, offset - half, offset + half, centre + ((signs * half)[:, :, None] * normals).sum(axis=1))


def _roof(x0: float, x1: float, base: float, half_width: float, height: float) -> _Slabs:
    """Gable roof prism along x: triangle from z = +-half_width at y = base up to the ridge (z = 0, base + height)."""
    w, h, top = half_width, height, base + height
    slope = np.array([[0.0, w, h], [0.0, w, -h]]) / math.hypot(w, h)
    normals = np.vstack([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], slope])
    lo, hi = np.array([x0, base, -np.inf, -np.inf]), np.array([x1, np.inf, *(slope[:, 1] * top)])
    corners = [(x, y, z) for x in (x0, x1) for y, z in ((base, -w), (base, w), (top, 0.0))]
    return _Slabs(normals, lo, hi, np.array(corners))


@functools.cache
def _objects() -> dict[str, tuple[_Primitive, ...]]:
    """The built-in objects' primitives (built on first use)."""
    legs = [_box((x, -0.75, z), (x + 0.1, -0.1, z + 0.1)) for x in (-0.42, 0.32) for z in (-0.42, 0.32)]
    posts = [_box((x, -0.1, -0.42), (x + 0.1, 0.72, -0.32)) for x in (-0.42, 0.32)]
    chair = (_box((-0.45, -0.1, -0.45), (0.45, 0.0, 0.45)), *legs, *posts, _box((-0.32, 0.3, -0.4), (0.32, 0.65, -0.34)))
    lblock = (_box((-0.7, -0.45, -0.3), (0.7, -0.05, 0.3)), _box((0.25, -0.05, -0.3), (0.7, 0.6, 0.3)),
              _box((-0.7, -0.05, 0.02), (-0.35, 0.25, 0.3)))
    mug = (_Cylinder(-0.12, 0.0, 0.4, -0.55, 0.5, inner=0.33, floor=-0.45),
           _box((0.24, 0.24, -0.06), (0.6, 0.34, 0.06)), _box((0.24, -0.36, -0.06), (0.6, -0.26, 0.06)),
           _box((0.5, -0.36, -0.06), (0.6, 0.34, 0.06)))
    house = (_box((-0.55, -0.6, -0.38), (0.55, 0.1, 0.38)), _roof(-0.62, 0.62, 0.1, 0.46, 0.42),
             _box((0.18, 0.1, -0.3), (0.32, 0.68, -0.16)))
    return {"chair": chair, "lblock": lblock, "mug": mug, "house": house}


def _camera(azimuths: np.ndarray, elevations: np.ndarray) -> tuple[np.ndarray, ...]:
    """Camera axes x_cam, y_cam, z_cam and the light direction, in world coordinates, each ``(n, 3)`` float64."""
    axes = np.empty((4, len(azimuths), 3))
    for i, (a, e) in enumerate(zip(azimuths.tolist(), elevations.tolist(), strict=True)):
        ca, sa, ce, se = math.cos(a), math.sin(a), math.cos(e), math.sin(e)
        axes[:3, i] = (ca, 0.0, -sa), (-se * sa, ce, -se * ca), (ce * sa, se, ce * ca)
    axes[3] = LIGHT[0] * axes[0] + LIGHT[1] * axes[1] + LIGHT[2] * axes[2]
    return tuple(axes)


def _dot(normals: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """``(B, k)`` dot products of ``k`` normals with ``B`` vectors, element-wise (no BLAS)."""
    return sum(vectors[:, i, None] * normals[None, :, i] for i in range(3))  # type: ignore[return-value]


def _nonzero(x: np.ndarray) -> np.ndarray:
    """``x`` with magnitudes below ``_TINY`` raised to it, keeping the sign (also of zeros)."""
    return np.where(np.abs(x) < _TINY, np.copysign(_TINY, x), x)


def _lambert(cos: np.ndarray) -> np.ndarray:
    """Intensity for the cosine between normal and light."""
    return (AMBIENT + (1 - AMBIENT) * np.maximum(cos, 0.0)).astype(np.float32, copy=False)


def _hit_slabs(p: _Slabs, cam: tuple[np.ndarray, ...], u: np.ndarray, v: np.ndarray, shade: bool) -> _Hit:
    """Entry depth, hit mask and shade (or None) of rays at camera-plane coordinates ``u`` (columns), ``v`` (rows)."""
    x, y, z, light = cam
    nx, ny, nz = _dot(p.normals, x), _dot(p.normals, y), _dot(p.normals, z)
    nd = _nonzero(-nz)[..., None]  # n . ray direction
    enter, leave = np.where(nd[..., 0] < 0, p.hi, p.lo), np.where(nd[..., 0] < 0, p.lo, p.hi)
    base = ny[..., None] * v  # n . ray origin, less its u term (origins lie on the image plane through 0)
    k_in, k_out = ((enter[..., None] - base) / nd).astype(np.float32), ((leave[..., None] - base) / nd).astype(np.float32)
    lin = (-(nx[..., None] * u) / nd).astype(np.float32)
    t_in = [k_in[:, j, :, None] + lin[:, j, None, :] for j in range(len(p.lo))]
    near, far = t_in[0], k_out[:, 0, :, None] + lin[:, 0, None, :]
    for j in range(1, len(p.lo)):
        near = np.maximum(near, t_in[j])
        far = np.minimum(far, k_out[:, j, :, None] + lin[:, j, None, :])
    if not shade:
        return near, near <= far, None
    faces = _lambert(-np.sign(nd[..., 0]) * _dot(p.normals, light))[..., None, None]
    value = np.broadcast_to(faces[:, -1], near.shape)
    for j in range(len(p.lo) - 2, -1, -1):
        value = np.where(t_in[j] == near, faces[:, j], value)
    return near, near <= far, value


def _cylinder_interval(radius: float, ex: np.ndarray, ez: np.ndarray, b: np.ndarray, a: np.ndarray,
                       k_y: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """Entry/exit depths of the capped cylinder, whether entry is through a cap, and the hit mask."""
    disc = b * b - a * (ex * ex + ez * ez - radius * radius)
    root = np.sqrt(np.maximum(disc, 0.0))
    side_in, side_out = (-b - root) / a, (-b + root) / a
    cap_in, cap_out = k_y
    near, far = np.maximum(side_in, cap_in), np.minimum(side_out, cap_out)
    return near, far, cap_in >= side_in, cap_out <= side_out, (disc >= 0) & (near <= far)


def _hit_cylinder(p: _Cylinder, cam: tuple[np.ndarray, ...], u: np.ndarray, v: np.ndarray, shade: bool) -> _Hit:
    """Like :func:`_hit_slabs` for a (possibly hollow) capped y-axis cylinder."""
    x, y, z, light = cam
    f32 = np.float32
    ex = ((x[:, 0, None] * u)[:, None, :] + (y[:, 0, None] * v - p.cx)[:, :, None]).astype(f32)
    ez = ((x[:, 2, None] * u)[:, None, :] + (y[:, 2, None] * v - p.cz)[:, :, None]).astype(f32)
    dx, dy, dz = (-z[:, i, None, None] for i in range(3))
    a = np.maximum(dx * dx + dz * dz, 1e-12).astype(f32)
    b = ex * dx.astype(f32) + ez * dz.astype(f32)
    dyy = _nonzero(dy)
    base = (y[:, 1, None] * v)[:, :, None]  # ray origins' y (no u term: x_cam . y = 0)
    top, bottom = np.where(dyy < 0, p.y1, p.y0), np.where(dyy < 0, p.y0, p.y1)
    k_y = [((e - base) / dyy).astype(f32) for e in (top, bottom)]
    near, far, cap, _, hit = _cylinder_interval(p.radius, ex, ez, b, a, k_y)
    if not shade:
        return near, hit, None
    lx, ly, lz = (light[:, i, None, None].astype(f32) for i in range(3))
    dl = dx.astype(f32) * lx + dz.astype(f32) * lz
    side = _lambert((ex * lx + ez * lz + near * dl) / p.radius)
    value = np.where(cap, _lambert(-np.sign(dyy) * ly), side)
    if p.inner > 0:
        h_ends = np.where(dyy < 0, p.y1 + 1.0, p.floor), np.where(dyy < 0, p.floor, p.y1 + 1.0)
        h_y = [((e - base) / dyy).astype(f32) for e in h_ends]
        h_near, h_far, _, floor, h_hit = _cylinder_interval(p.inner, ex, ez, b, a, h_y)
        inside = hit & h_hit & (h_near <= near) & (near <= h_far)
        wall = _lambert(-(ex * lx + ez * lz + h_far * dl) / p.inner)
        value = np.where(inside, np.where(floor, _lambert(ly), wall), value)
        near = np.where(inside, h_far, near)
    return near, hit, value


def _rect(p: _Primitive, cam: tuple[np.ndarray, ...], coords: np.ndarray) -> tuple[int, int, int, int]:
    """Rows and columns (start, stop, start, stop) of samples that may hit ``p`` in any image of the batch."""
    n, step, r = len(coords), coords[1] - coords[0], getattr(p, "radius", 0.0)
    box = p if isinstance(p, _Slabs) else _box((p.cx - r, p.y0, p.cz - r), (p.cx + r, p.y1, p.cz + r))
    us, vs = _dot(box.corners, cam[0]), _dot(box.corners, cam[1])
    c0, c1, r0, r1 = (float(w) / step + (n - 1) / 2 for w in (us.min(), us.max(), -vs.max(), -vs.min()))
    r0, r1, c0, c1 = math.floor(r0) - 2, math.ceil(r1) + 3, math.floor(c0) - 2, math.ceil(c1) + 3
    return max(r0, 0), min(r1, n), max(c0, 0), min(c1, n)


def _render_scene(primitives: Sequence[_Primitive], azimuths: np.ndarray, elevations: np.ndarray, size: int,
                  supersample: int = 4, shade: bool = True) -> np.ndarray:
    """``(n, size, size)`` float32 views of one scene of primitives (validated angles; see the module docstring)."""
    n, ss, side = len(azimuths), supersample, size * supersample
    coords = (np.arange(side) + 0.5 - side / 2) * (2.0 / (_DIAMETER * side))  # sample centres, symmetric about 0
    out = np.empty((n, size, size), np.float32)
    batch = max(1, _BLOCK // (side * side))
    for start in range(0, n, batch):
        cam = _camera(azimuths[start:start + batch], elevations[start:start + batch])
        b = len(cam[0])
        depth, value = np.full((b, side, side), np.inf, np.float32), np.zeros((b, side, side), np.float32)
        for p in primitives:
            r0, r1, c0, c1 = _rect(p, cam, coords)
            hit_fn = _hit_slabs if isinstance(p, _Slabs) else _hit_cylinder
            step = max(1, _BLOCK // (b * max(c1 - c0, 1)))
            for r in range(r0, r1, step):
                rows = slice(r, min(r + step, r1))
                near, hit, val = hit_fn(p, cam, coords[c0:c1], -coords[rows], shade)
                closer = hit & (near < depth[:, rows, c0:c1])
                np.copyto(depth[:, rows, c0:c1], near, where=closer)
                if val is not None:
                    np.copyto(value[:, rows, c0:c1], val, where=closer)
        if not shade:
            value = (depth < np.inf).astype(np.float32)
        acc = np.zeros((b, size, size), np.float32)
        for i in range(ss):  # explicit sum: the same order for every image, however batched
            for j in range(ss):
                acc += value[:, i::ss, j::ss]
        out[start:start + b] = acc / np.float32(ss * ss)
    return out


def _check(objects: Sequence[str] | np.ndarray, azimuths: np.ndarray, elevations: np.ndarray, size: int,
           supersample: int) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Validated object names and angles (float64, one per image); raises :class:`LatentwalkError`."""
    for label, value, least in (("size", size, 8), ("supersample", supersample, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
            raise LatentwalkError(f"views: {label} must be an integer >= {least}, got {value!r}")
    az, el = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (azimuths, elevations))
    names = [objects] * len(az) if isinstance(objects, str) else [str(o) for o in np.asarray(objects).reshape(-1)]
    if not len(names) == len(az) == len(el):
        raise LatentwalkError(f"views: {len(names)} objects, {len(az)} azimuths and {len(el)} elevations differ")
    for label, values in (("azimuths", az), ("elevations", el)):
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise LatentwalkError(f"views: {label}[{bad[0]}] is not finite: {values[bad[0]]}")
    for name in names:
        if name not in OBJECTS:
            raise LatentwalkError(f"views: unknown object {name!r} (known: {', '.join(OBJECTS)})")
    return names, az, el


def _render(objects: Sequence[str] | np.ndarray, azimuths: np.ndarray, elevations: np.ndarray, size: int,
            supersample: int, shade: bool) -> np.ndarray:
    """Validate, group images by object (sorted by azimuth within a group) and render each group."""
    names, az, el = _check(objects, azimuths, elevations, size, supersample)
    out = np.empty((len(names), size, size), np.float32)
    kinds = np.array([OBJECTS.index(name) for name in names], dtype=np.int64)
    for kind, name in enumerate(OBJECTS):
        idx = np.flatnonzero(kinds == kind)
        idx = idx[np.lexsort((el[idx], np.mod(az[idx], 2 * np.pi)))]
        if idx.size:
            out[idx] = _render_scene(_objects()[name], az[idx], el[idx], size, supersample, shade)
    return out


def render_views(objects: Sequence[str] | np.ndarray, azimuths: np.ndarray, elevations: np.ndarray, size: int,
                 supersample: int = 4) -> np.ndarray:
    """``(n, size, size)`` float32 shaded views in [0, 1]: object ``objects[k]`` seen from ``azimuths[k]``,
    ``elevations[k]`` (radians; conventions in the module docstring). A single name applies to every image."""
    return _render(objects, azimuths, elevations, size, supersample, shade=True)


def render_view(obj: str, azimuth: float, elevation: float, size: int, supersample: int = 4) -> np.ndarray:
    """``(size, size)`` float32: one shaded view (row 0 of :func:`render_views`)."""
    return render_views([obj], np.array([azimuth], float), np.array([elevation], float), size, supersample)[0]


def coverage(objects: Sequence[str] | np.ndarray, azimuths: np.ndarray, elevations: np.ndarray, size: int,
             supersample: int = 4) -> np.ndarray:
    """``(n, size, size)`` float32 silhouettes: the share of each pixel's sub-samples that hit the object."""
    return _render(objects, azimuths, elevations, size, supersample, shade=False)


def colourise(images: np.ndarray, objects: Sequence[str] | np.ndarray, channels: int) -> np.ndarray:
    """Shaded views ``(n, size, size)`` as ``(n, size, size, channels)`` float32: grey as they are (``channels``
    1), or each object's :data:`OBJECT_COLOURS` scaled by its shading (3; the background stays black)."""
    if channels == 1:
        return np.asarray(images, dtype=np.float32)[..., None]
    if channels != 3:
        raise LatentwalkError(f"views: channels must be 1 or 3, got {channels!r}")
    names = [str(o) for o in np.asarray(objects).reshape(-1)]
    colours = np.array([OBJECT_COLOURS[name] for name in names], dtype=np.float32)
    return np.asarray(images, dtype=np.float32)[..., None] * colours[:, None, None, :]
