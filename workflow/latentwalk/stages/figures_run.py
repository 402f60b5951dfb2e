"""Stage plot_run: the figures every run has: training curves, latent scatter, norms along paths, quality along paths."""

from __future__ import annotations

from collections.abc import Mapping

from ..io import PathLike
from ..logs import Log, quiet


def plot_run(
    run: str,
    history_csv: PathLike,
    latents: PathLike,
    path_norms_csv: PathLike,
    quality_csv: PathLike,
    quality_summary_csv: PathLike,
    max_points: int,
    projection: str,
    seed: int,
    out: Mapping[str, PathLike],
    log: Log = quiet,
) -> None:
    """Draw the run's four measurement figures; ``out`` maps ``{figure}_png`` / ``{figure}_svg`` to files."""
    import pandas as pd

    from ..encoding import latent_matrix, read_latents
    from ..figures_quality import digit_quality_figure, line_quality_figure, path_norm_figure, view_quality_figure
    from ..figures_run import latent_scatter, subsample, training_curves
    from ..plots import save_figure

    def save(fig: object, name: str) -> None:
        save_figure(fig, out[f"{name}_png"], out[f"{name}_svg"])

    history = pd.read_csv(history_csv)
    save(training_curves(history, f"{run}: training curves"), "training_curves")
    log(f"training curves: {len(history)} epochs")

    table, meta = read_latents(latents)
    test = table[table["split"] == "test"].reset_index(drop=True)
    test = test.iloc[subsample(len(test), max_points, seed)]
    fig = latent_scatter(latent_matrix(test), test["label"].to_numpy(), meta.get("label_kind", "class"),
                         f"{run}: encoded test means (n={len(test)})", bool(meta.get("variational", False)), seed, projection)
    save(fig, "latent_scatter")
    log(f"latent scatter: {len(test)} test latents")

    norms = pd.read_csv(path_norms_csv)
    save(path_norm_figure(norms, int(meta["latent_dim"]), f"{run}: norm along interpolation paths"), "path_norms")
    log(f"path norms: {norms['method'].nunique()} methods")

    quality, summary = pd.read_csv(quality_csv), pd.read_csv(quality_summary_csv)
    if "view_distance" in quality.columns:
        fig = view_quality_figure(quality, summary, f"{run}: distance to the nearest true view, smoothness, identity")
    elif "line_distance" in quality.columns:
        fig = line_quality_figure(quality, summary, f"{run}: distance to the nearest true line and smoothness")
    else:
        fig = digit_quality_figure(quality, summary, f"{run}: classifier confidence and distance to the data")
    save(fig, "path_quality")
    log("quality along paths")
