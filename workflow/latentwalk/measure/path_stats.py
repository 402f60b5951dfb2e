"""Stage path_stats: norms along every path of one run, and the quality of every decoded frame.

How frames are scored depends on the dataset (the registry's ``scorer``): line
data against the 10,000 true lines (Mean Distance, Smoothness), class data by
a classifier and the distance to the nearest training image, view data against
dense renders of every object (and a pixel cross-fade baseline). Each scorer is a
small class in :data:`SCORERS` with the same three methods, so the stage itself
never branches on the dataset.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from latentwalk.core.io import LatentwalkError, PathLike, method_files, read_parquet, write_csv
from latentwalk.core.latents import latent_matrix, read_latents
from latentwalk.core.logs import Log, quiet
from latentwalk.core.registry import BASELINES, CLOSED_FORM_INTERPOLATIONS
from latentwalk.data.dataset import as_float, load_dataset, load_references
from latentwalk.measure.norms import encoded_norm_summary, path_norm_summary, path_norm_table, walk_names
from latentwalk.measure.quality import (
    classifier_probabilities,
    crossfade,
    entropy,
    mean_smoothness,
    nearest_lines,
    nearest_neighbour_distance,
    nearest_views,
    reference_lines,
    smoothness,
    to_benchmark_scale,
)
from latentwalk.walks.pathset import on_shared_pairs, shared_pairs

__all__ = ["LineScorer", "ClassifierScorer", "ViewScorer", "SCORERS", "frame_table", "path_stats"]


class LineScorer:
    """Line data: cosine distance of each frame to the nearest true line, its angle, and per-path Smoothness."""

    def __init__(self, line_params: Mapping[str, Any]) -> None:

        self.angles, self.references = reference_lines(line_params)

    def score(self, frames: Any, flat: np.ndarray) -> None:
        """Add ``line_distance``, ``line_angle`` and ``path_smoothness`` columns to ``frames``."""

        dist, idx = nearest_lines(to_benchmark_scale(flat), self.references)
        frames["line_distance"] = dist
        frames["line_angle"] = self.angles[idx]
        per_path = frames.groupby("path_id", sort=True)["line_angle"].apply(lambda a: smoothness(a.to_numpy()))
        frames["path_smoothness"] = frames["path_id"].map(per_path)

    def summarize(self, group: Any, mid: Any) -> dict[str, Any]:
        """Mean Distance (all frames and midpoints) and Mean Smoothness of one walk."""

        per = group.groupby("path_id")["path_smoothness"].first().to_numpy()
        return {
            # as the benchmark: a frame without a distance (an all-zero image) makes the mean undefined
            "mean_distance": float(group["line_distance"].mean(skipna=False)),
            "mean_distance_mid": float(mid["line_distance"].mean(skipna=False)),
            "smoothness": mean_smoothness(per),
            "smoothness_undefined": int(np.isnan(per).sum()),
        }

    def baselines(self, tables: Mapping[str, Any], decoded: Mapping[str, np.ndarray]) -> list[tuple[Any, np.ndarray]]:
        """Line data has no baseline walks."""
        return []


class ClassifierScorer:
    """Class data: classifier prediction, confidence and entropy per frame, and the distance to the nearest training image."""

    def __init__(self, classifier_npz: PathLike | None, data_npz: PathLike, run: str) -> None:

        if classifier_npz is None:
            raise LatentwalkError(f"{run}: class-labelled data needs the classifier to score frames")
        with np.load(classifier_npz) as handle:
            self.weights = {k: handle[k] for k in handle.files}
        data = load_dataset(data_npz)
        self.train_images = as_float(data.images[data.split == "train"])

    def score(self, frames: Any, flat: np.ndarray) -> None:
        """Add ``predicted``, ``confidence``, ``entropy`` and ``nn_distance`` columns to ``frames``."""

        p = classifier_probabilities(self.weights, flat)
        frames["predicted"] = self.weights["classes"][p.argmax(axis=1)]
        frames["confidence"] = p.max(axis=1)
        frames["entropy"] = entropy(p)
        frames["nn_distance"], _ = nearest_neighbour_distance(flat, self.train_images)

    def summarize(self, group: Any, mid: Any) -> dict[str, Any]:
        """Means over all frames and over the midpoints of one walk."""
        out: dict[str, Any] = {}
        for column in ("confidence", "entropy", "nn_distance"):
            out[column] = float(group[column].mean())
            out[f"{column}_mid"] = float(mid[column].mean())
        return {k: out[k] for k in ("confidence", "confidence_mid", "entropy", "entropy_mid", "nn_distance", "nn_distance_mid")}

    def baselines(self, tables: Mapping[str, Any], decoded: Mapping[str, np.ndarray]) -> list[tuple[Any, np.ndarray]]:
        """Class data has no baseline walks."""
        return []


class ViewScorer:
    """View data: each frame against the dataset's dense renders (distance, recovered azimuth and object); per
    path between two views of one object, Smoothness of the recovered azimuth and identity drift; the pixel
    cross-fade of the pair interpolations' endpoints as a baseline walk."""

    def __init__(self, data_npz: PathLike) -> None:

        self.references = load_references(data_npz)
        self.images = as_float(load_dataset(data_npz).images)

    def score(self, frames: Any, flat: np.ndarray) -> None:
        """Add ``view_distance``, ``view_azimuth``, ``view_elevation``, ``view_object``, ``same_object``,
        ``identity_drift`` and ``path_smoothness`` (same-object paths only) columns to ``frames``."""

        found = nearest_views(flat, self.references)
        for key, values in found.items():
            frames[f"view_{key}"] = values
        if "label_a" in frames:
            frames["same_object"] = (frames["label_a"] == frames["label_b"]).to_numpy()
        else:  # not a walk between two encoded views: no object to keep
            frames["same_object"] = False
        frames["identity_drift"] = np.where(frames["same_object"], frames["view_object"] != frames.get("label_a", -1), np.nan)
        same = frames[frames["same_object"]]
        per_path = same.groupby("path_id", sort=True)["view_azimuth"].apply(lambda a: smoothness(a.to_numpy()))
        frames["path_smoothness"] = frames["path_id"].map(per_path)

    def summarize(self, group: Any, mid: Any) -> dict[str, Any]:
        """Over the walk's same-object frames (every frame when it has none): Mean Distance (all frames and
        midpoints), Mean Smoothness, identity drift; and the mean distance of frames between two objects."""

        same = group[group["same_object"]]
        scored, scored_mid = (same, mid[mid["same_object"]]) if len(same) else (group, mid)
        per = same.groupby("path_id")["path_smoothness"].first().to_numpy()
        cross = group[~group["same_object"]] if "label_a" in group.columns else group.iloc[:0]
        return {
            "mean_distance": float(scored["view_distance"].mean(skipna=False)),
            "mean_distance_mid": float(scored_mid["view_distance"].mean(skipna=False)),
            "smoothness": mean_smoothness(per),
            "smoothness_undefined": int(np.isnan(per).sum()),
            "identity_drift": float(same["identity_drift"].mean()) if len(same) else float("nan"),
            "cross_distance": float(cross["view_distance"].mean(skipna=False)) if len(cross) else float("nan"),
        }

    def baselines(self, tables: Mapping[str, Any], decoded: Mapping[str, np.ndarray]) -> list[tuple[Any, np.ndarray]]:
        """Pixel cross-fades over the pairs of the first closed-form pair interpolation present (``tables``: path
        tables by method; ``decoded``: their images): ``crossfade`` blends the two true endpoint images,
        ``crossfade_decoded`` the run's own decoded endpoints (the interpolation's frames at t = 0 and 1), so that
        the comparison with the model's walks is not one of reconstruction blur."""

        source = next((m for m in CLOSED_FORM_INTERPOLATIONS if m in tables), None)
        if source is None:
            return []
        table = tables[source].sort_values(["path_id", "step"], kind="stable").reset_index(drop=True)
        ends = table.groupby("path_id", sort=True).agg(index_a=("index_a", "first"), index_b=("index_b", "first"),
                                                       steps=("step", "size"))
        steps = int(ends["steps"].iloc[0])
        true = crossfade(self.images[ends["index_a"].to_numpy()], self.images[ends["index_b"].to_numpy()], steps)
        own = crossfade(decoded[source][:, 0], decoded[source][:, -1], steps)
        return [(table.assign(method=BASELINES[0]), true), (table.assign(method=BASELINES[1]), own)]


class RealismScorer:
    """Data of your own without labels: each frame's Euclidean pixel distance to the nearest held-out (test split)
    image, the one score every source has."""

    def __init__(self, data_npz: PathLike) -> None:

        data = load_dataset(data_npz)
        self.test_images = as_float(data.images[data.split == "test"])

    def score(self, frames: Any, flat: np.ndarray) -> None:
        """Add ``nn_distance`` (to the nearest held-out image) to ``frames``."""
        frames["nn_distance"], _ = nearest_neighbour_distance(flat, self.test_images)

    def summarize(self, group: Any, mid: Any) -> dict[str, Any]:
        """The mean distance over all frames and over the midpoints of one walk."""
        return {"nn_distance": float(group["nn_distance"].mean()), "nn_distance_mid": float(mid["nn_distance"].mean())}

    def baselines(self, tables: Mapping[str, Any], decoded: Mapping[str, np.ndarray]) -> list[tuple[Any, np.ndarray]]:
        """Unlabelled data has no baseline walks."""
        return []


#: Scorer name (the registry's ``Dataset.scorer``) -> its constructor from (scoring params, data, classifier, run).
SCORERS: dict[str, Callable[[Mapping[str, Any], PathLike, PathLike | None, str], Any]] = {
    "lines": lambda params, data, classifier, run: LineScorer(params["lines"]),
    "classifier": lambda params, data, classifier, run: ClassifierScorer(classifier, data, run),
    "views": lambda params, data, classifier, run: ViewScorer(data),
    "realism": lambda params, data, classifier, run: RealismScorer(data),
}


#: Per-path columns of walks measured by their dense decoded length (the geodesic), kept in the frame table.
LENGTH_COLUMNS: tuple[str, ...] = ("dense_length", "line_dense_length", "not_shorter")


def length_summary(group: Any) -> dict[str, Any]:
    """Mean dense decoded length of a walk's paths and of their straight lines, the mean ratio, and how many paths
    are not shorter than their straight line (empty for walks without lengths)."""
    if "dense_length" not in group.columns:
        return {}
    per = group.groupby("path_id")[list(LENGTH_COLUMNS)].first()
    return {"dense_length": float(per["dense_length"].mean()), "line_dense_length": float(per["line_dense_length"].mean()),
            "length_ratio": float((per["dense_length"] / per["line_dense_length"]).mean()),
            "not_shorter": int(per["not_shorter"].astype(bool).sum())}


def frame_table(paths: Any, images: np.ndarray, source: PathLike = "decoded frames") -> Any:
    """One row per decoded frame (path, step) with the path's parameters, in the npz's order (``source``: for errors)."""

    keep = [c for c in ("method", "variant", "path_id", "pair", "step", "t", "delta", "alpha", "index_a", "index_b",
                        "label_a", "label_b", *LENGTH_COLUMNS) if c in paths.columns]
    frames = paths[keep].sort_values(["path_id", "step"], kind="stable").reset_index(drop=True)
    if len(frames) != images.shape[0] * images.shape[1]:
        raise LatentwalkError(f"{source}: {images.shape[0] * images.shape[1]} decoded frames but its path table has "
                              f"{len(frames)} points")
    frames.insert(1, "walk", walk_names(frames))
    return frames


def midpoint_steps(frames: Any) -> Any:
    """True for each path's middle step (both middle steps when a path has an even number of steps)."""
    last = frames.groupby("path_id")["step"].transform("max")
    return (frames["step"] == last // 2) | ((last % 2 == 1) & (frames["step"] == last // 2 + 1))


def path_stats(run: str, methods: Sequence[str], inputs: Mapping[str, PathLike], scoring: Mapping[str, Any],
               out: Mapping[str, PathLike], log: Log = quiet) -> None:
    """Norms along every path, encoded norms, and interpolation quality of every decoded frame of one run.

    ``inputs`` names the run's files as rule path_stats does: ``paths`` and ``decoded`` (the directories of its
    path tables and their decoded frames), ``latents``, ``data`` (the dataset) and, for class-labelled data,
    ``classifier``. ``scoring['scorer']`` picks the frame scorer (a key of :data:`SCORERS`).
    Writes ``out['path_norms']`` (every step), ``out['norm_summary']`` (per method and walk),
    ``out['encoded_norms']``, ``out['quality']`` (every frame) and ``out['quality_summary']``.
    """
    paths_dir, decoded_dir, latents = inputs["paths"], inputs["decoded"], inputs["latents"]
    start = time.perf_counter()
    if scoring["scorer"] not in SCORERS:
        raise LatentwalkError(f"{run}: unknown frame scorer {scoring['scorer']!r}; allowed: {', '.join(SCORERS)}")
    table, meta = read_latents(latents)
    d = int(meta["latent_dim"])
    files = method_files(paths_dir, methods, ".parquet")
    tables = [read_parquet(p)[0] for p in files]
    for path, frame in zip(files, tables):
        z_cols = sorted(c for c in frame.columns if c.startswith("z_"))
        if z_cols != sorted(f"z_{i}" for i in range(d)):
            raise LatentwalkError(f"{path}: paths are {len(z_cols)}-D but the run's latents ({latents}) are {d}-D")
    every = pd.concat(tables, ignore_index=True)
    shared = shared_pairs(tables)
    norms = path_norm_table(every, d)
    write_csv(norms, out["path_norms"])
    write_csv(path_norm_summary(norms[on_shared_pairs(every, shared)]), out["norm_summary"])
    write_csv(encoded_norm_summary(table["norm"].to_numpy(), table["split"].astype(str).to_numpy(), d,
                                   mu=latent_matrix(table)), out["encoded_norms"])

    scorer = SCORERS[scoring["scorer"]](scoring, inputs["data"], inputs.get("classifier"), run)
    walks: list[tuple[Any, np.ndarray, PathLike]] = []
    for paths, npz in zip(tables, method_files(decoded_dir, methods, ".npz")):
        with np.load(npz) as handle:
            images = handle["images"]
        if images.ndim != 5:
            raise LatentwalkError(f"{npz}: decoded images must be (paths, steps, H, W, C), got shape {images.shape}")
        walks.append((paths, images, npz))
    by_method = {str(paths["method"].iloc[0]): (paths, images) for paths, images, _ in walks if len(paths)}
    baselines = scorer.baselines({m: p for m, (p, _) in by_method.items()}, {m: i for m, (_, i) in by_method.items()})
    walks += [(paths, images, "baseline") for paths, images in baselines]
    frames_all, summaries = [], []
    for paths, images, npz in walks:
        frames = frame_table(paths, images, npz)
        scorer.score(frames, images.reshape(images.shape[0] * images.shape[1], *images.shape[2:]))
        mid = midpoint_steps(frames)
        for walk, group in frames[on_shared_pairs(frames, shared)].groupby("walk", sort=False):
            row: dict[str, Any] = {"method": group["method"].iloc[0], "walk": walk, "paths": int(group["path_id"].nunique()),
                                   "frames": int(len(group))}
            row.update(scorer.summarize(group, group[mid[group.index]]))
            row.update(length_summary(group))
            summaries.append(row)
        frames_all.append(frames)
    write_csv(pd.concat(frames_all, ignore_index=True), out["quality"])
    write_csv(pd.DataFrame(summaries), out["quality_summary"])
    if shared is not None:
        log(f"{run}: pair interpolations and baselines summarised on the {len(shared)} endpoint pairs they all walk")
    log(f"{run}: {len(norms)} path points, {sum(len(f) for f in frames_all)} frames scored in {time.perf_counter() - start:.1f}s")
