"""How good are interpolations? Line-benchmark metrics and a classifier for digit frames.

Lines (the synthetic benchmark): each decoded frame is compared, in the
benchmark's pixel scale [-1, 1] with background -1, with 10,000 reference
lines drawn at angles linspace(0, 2 pi, 10000, endpoint excluded).

- Mean Distance: the mean over frames of the cosine distance to the nearest
  reference line (0 when every frame is a clean line).
- Smoothness of a path: max_k |a_{k+1} - a_k| / |a_last - a_first| - 1/(steps - 1),
  where a_k is the angle of frame k's nearest reference line after unwrapping
  (0 when the angle moves in equal steps); NaN when the total change is below
  1e-4. The mean over paths counts NaN paths as 0 in the sum but keeps them in
  the count, and is NaN when every path is NaN. An all-zero frame has no
  distance (NaN), as in the benchmark's code.

Views (rendered objects): each decoded frame is compared, in its own [0, 1]
scale (background 0), with the dataset's reference set, dense renders of every
object (e.g. 720 azimuths). The nearest reference by cosine distance gives the
frame's distance (how realistic it is), its azimuth (where the view is) and its
object. Over the frames of a path between two views of one object: Mean
Distance, Smoothness as for lines on the recovered azimuths, and the identity
drift, the share of frames whose nearest reference is another object. The
baseline is a pixel cross-fade of the two endpoint images.

Digits: a small MLP classifier (scikit-learn) trained on the dataset's train
split scores each frame (max probability, entropy); its weights are stored in
an ``.npz`` and applied here with numpy, so scoring needs neither pickle nor torch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from latentwalk.core.io import LatentwalkError
from latentwalk.data.lines import draw_lines

__all__ = [
    "N_REFERENCE",
    "SMOOTHNESS_MIN_CHANGE",
    "to_benchmark_scale",
    "reference_lines",
    "nearest_lines",
    "smoothness",
    "mean_smoothness",
    "nearest_views",
    "wrap_angle",
    "interpolate_azimuth",
    "crossfade",
    "classifier_probabilities",
    "entropy",
    "nearest_neighbour_distance",
]

N_REFERENCE = 10_000
SMOOTHNESS_MIN_CHANGE = 1e-4


def to_benchmark_scale(images: np.ndarray) -> np.ndarray:
    """Map decoded [0, 1] images to the benchmark's [-1, 1] scale (background -1): 2x - 1."""
    return 2.0 * np.asarray(images, dtype=np.float32) - 1.0


def reference_lines(line_params: Mapping[str, Any], n: int = N_REFERENCE) -> tuple[np.ndarray, np.ndarray]:
    """Angles and [-1, 1]-scaled images ``(n, size*size)`` of the reference lines, drawn by the dataset's own
    renderer (``line_params`` are the ``data.lines`` settings)."""

    angles = np.linspace(0.0, 2.0 * np.pi, n, endpoint=False)
    return angles, to_benchmark_scale(draw_lines(angles, line_params)).reshape(n, -1)


def nearest_lines(frames: np.ndarray, references: np.ndarray, chunk: int = 512, what: str = "reference lines") -> tuple[np.ndarray, np.ndarray]:
    """For frames ``(F, P)`` in [-1, 1]: (cosine distance to, index of) the nearest reference row.

    As in the benchmark's code, an all-zero frame has no cosine distance: NaN, with index 0 (so Mean Distance
    over a walk that holds one is NaN, never a made-up 1.0)."""
    frames = np.asarray(frames, dtype=np.float64).reshape(len(frames), -1)
    if frames.shape[1] != references.shape[1]:
        raise LatentwalkError(f"frames have {frames.shape[1]} pixels but {what} have {references.shape[1]}")
    references = np.asarray(references, dtype=np.float64)  # float32 dot products misrank near-identical lines
    ref_unit = references / np.linalg.norm(references, axis=1, keepdims=True)
    distance = np.empty(len(frames), dtype=np.float64)
    index = np.empty(len(frames), dtype=np.int64)
    for first in range(0, len(frames), chunk):
        block = frames[first : first + chunk]
        norms = np.linalg.norm(block, axis=1, keepdims=True)
        unit = block / np.where(norms == 0, 1.0, norms)
        cosine = unit @ ref_unit.T
        best = cosine.argmax(axis=1)
        zero = norms[:, 0] == 0
        index[first : first + len(block)] = np.where(zero, 0, best)
        distance[first : first + len(block)] = np.where(
            zero, np.nan, np.maximum(1.0 - cosine[np.arange(len(block)), best], 0.0)
        )
    return distance, index


def smoothness(angles: np.ndarray) -> float:
    """Smoothness of one path from its frames' nearest-line angles (radians); NaN if it barely moves."""
    a = np.unwrap(np.asarray(angles, dtype=np.float64))
    if len(a) < 2:
        raise LatentwalkError("smoothness needs at least two frames")
    total = abs(a[-1] - a[0])
    if total < SMOOTHNESS_MIN_CHANGE:
        return float("nan")
    return float(np.max(np.abs(np.diff(a))) / total - 1.0 / (len(a) - 1))


def mean_smoothness(values: np.ndarray) -> float:
    """Mean over paths with undefined (NaN) paths counted as 0 in the sum but kept in the count; NaN when every
    path is undefined (as the benchmark: not 0, which would read as perfectly smooth)."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0 or np.isnan(values).all():
        return float("nan")
    return float(np.nan_to_num(values, nan=0.0).sum() / values.size)


def nearest_views(frames: np.ndarray, references: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """For frames ``(F, H, W, C)`` in [0, 1]: the cosine distance to the nearest reference render and that render's
    ``azimuth``, ``elevation`` and ``object`` (``references``: a views dataset's reference set). An all-zero frame
    has no distance (NaN) and takes reference 0, as for lines."""
    flat = np.asarray(references["images"], dtype=np.float32).reshape(len(references["images"]), -1)
    distance, index = nearest_lines(np.asarray(frames).reshape(len(frames), -1), flat, what="reference views")
    return {"distance": distance, "azimuth": np.asarray(references["azimuth"])[index],
            "elevation": np.asarray(references["elevation"])[index], "object": np.asarray(references["labels"])[index]}


def wrap_angle(angle: np.ndarray | float) -> np.ndarray:
    """Angles wrapped to [-pi, pi) (the signed shortest turn)."""
    return (np.asarray(angle, dtype=np.float64) + np.pi) % (2.0 * np.pi) - np.pi


def interpolate_azimuth(a: np.ndarray | float, b: np.ndarray | float, t: np.ndarray | float) -> np.ndarray:
    """The azimuth a fraction ``t`` of the way from ``a`` to ``b`` along the shorter turn, in [0, 2pi)."""
    return (np.asarray(a, dtype=np.float64) + np.asarray(t, dtype=np.float64) * wrap_angle(np.asarray(b) - np.asarray(a))) % (2.0 * np.pi)


def crossfade(images_a: np.ndarray, images_b: np.ndarray, steps: int) -> np.ndarray:
    """The pixel-space baseline: ``(1 - t) a + t b`` for ``steps`` equally spaced t in [0, 1]: images ``(pairs, ...)``
    -> ``(pairs, steps, ...)``."""
    if steps < 2:
        raise LatentwalkError(f"a cross-fade needs at least 2 steps, got {steps}")
    a = np.asarray(images_a, dtype=np.float64)[:, None]
    t = np.linspace(0.0, 1.0, steps, dtype=np.float64).reshape(1, steps, *[1] * (a.ndim - 2))
    b = np.asarray(images_b, dtype=np.float64)[:, None]
    return ((1.0 - t) * a + t * b).astype(np.float32)


def classifier_probabilities(weights: Mapping[str, np.ndarray], images: np.ndarray) -> np.ndarray:
    """Class probabilities ``(F, n_classes)`` of the stored MLP for images ``(F, ...)`` (numpy forward pass)."""
    x = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    hidden = np.maximum(x @ weights["w1"] + weights["b1"], 0.0)
    logits = hidden @ weights["w2"] + weights["b2"]
    if logits.shape[1] == 1:  # two classes: scikit-learn uses one logistic output unit
        e = np.exp(-np.abs(logits[:, 0]))  # the logistic function, without overflow
        p1 = np.where(logits[:, 0] >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return np.column_stack([1.0 - p1, p1])
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row of probabilities."""
    p = np.asarray(p, dtype=np.float64)
    safe = np.where(p > 0, p, 1.0)
    return np.where(p > 0, -p * np.log(safe), np.where(p == 0, 0.0, -np.inf)).sum(axis=1)


def nearest_neighbour_distance(frames: np.ndarray, reference: np.ndarray, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """Euclidean pixel distance from each frame to its nearest reference image, and that image's row."""
    f = np.asarray(frames, dtype=np.float64).reshape(len(frames), -1)
    r = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
    r_sq = np.einsum("ij,ij->i", r, r)
    distance = np.empty(len(f))
    index = np.empty(len(f), dtype=np.int64)
    for first in range(0, len(f), chunk):
        block = f[first : first + chunk]
        sq = np.einsum("ij,ij->i", block, block)[:, None] - 2.0 * block @ r.T + r_sq[None, :]
        best = sq.argmin(axis=1)
        index[first : first + len(block)] = best
        distance[first : first + len(block)] = np.sqrt(np.maximum(sq[np.arange(len(block)), best], 0.0))
    return distance, index
