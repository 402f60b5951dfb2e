"""Stage plot_run: the run's model diagnostics, training curves and the latent scatter.

Neither reads the paths, so a path setting never redraws them; the figures of the paths (norm and quality along
them, the decoded walks) are :mod:`latentwalk.stages.figures_walks`.
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
    import pandas as pd

    from ..encoding import latent_matrix, read_latents
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
