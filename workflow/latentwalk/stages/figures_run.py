"""A run's model diagnostics: the training curves and the latent scatter.

Drawn by the run's figure job (:func:`latentwalk.stages.figures_walks.plot_walks`) beside the figures of the
paths: in a job of their own they cost a figure job's start-up, more than their drawing.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..io import PathLike
from ..logs import Log, quiet


def plot_run(
    run: str,
    history_csv: PathLike,
    latents: PathLike,
    max_points: int,
    projection: str,
    seed: int,
    out: Mapping[str, PathLike],
    log: Log = quiet,
) -> None:
    """Draw the run's training curves and latent scatter; ``out`` maps ``{figure}_png`` / ``{figure}_svg`` to files."""
    import numpy as np

    from ..encoding import read_latent_columns
    from ..figures_run import latent_scatter, subsample, training_curves
    from ..io import read_csv_columns
    from ..plots import save_figure

    def save(fig: object, name: str) -> None:
        save_figure(fig, out[f"{name}_png"], out[f"{name}_svg"])

    history = read_csv_columns(history_csv)
    save(training_curves(history, f"{run}: training curves"), "training_curves")
    log(f"training curves: {len(history['epoch'])} epochs")

    columns, meta = read_latent_columns(latents)
    test = np.flatnonzero(columns["split"] == "test")
    rows = test[subsample(len(test), max_points, seed)]
    mu = np.column_stack([columns[f"mu_{i}"][rows] for i in range(int(meta["latent_dim"]))])
    fig = latent_scatter(mu, columns["label"][rows], meta.get("label_kind", "class"),
                         f"{run}: encoded test means (n={len(rows)})", bool(meta.get("variational", False)), seed, projection)
    save(fig, "latent_scatter")
    log(f"latent scatter: {len(rows)} test latents")
