"""Figure stages: render PNG and SVG figures from artifacts only."""

from __future__ import annotations

from ..io import PathLike
from ..logs import Log, quiet


def plot_training(train_log_csv: PathLike, run: str, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """Training curves of one run."""
    import pandas as pd

    from ..plots import save_figure, training_curves

    history = pd.read_csv(train_log_csv)
    save_figure(training_curves(history, f"{run}: training curves"), out_png, out_svg)
    log(f"plotted {len(history)} epochs")


def plot_latents(latents: PathLike, run: str, max_points: int, seed: int, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """Latent scatter of the test split of one run, coloured by label."""
    from ..encoding import latent_matrix, read_latents
    from ..plots import latent_scatter, save_figure, subsample

    table, meta = read_latents(latents)
    test = table[table["split"] == "test"].reset_index(drop=True)
    keep = subsample(len(test), max_points, seed)
    test = test.iloc[keep]
    fig = latent_scatter(
        latent_matrix(test),
        test["label"].to_numpy(),
        meta.get("label_kind", "class"),
        f"{run}: encoded test means (n={len(test)})",
        bool(meta.get("variational", False)),
        seed,
    )
    save_figure(fig, out_png, out_svg)
    log(f"plotted {len(test)} test latents")
