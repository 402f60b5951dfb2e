"""Figure stages: render PNG and SVG figures from artifacts only."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..io import LatentwalkError, PathLike
from ..logs import Log, quiet


def plot_training(train_log_csv: PathLike, run: str, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """Training curves of one run."""
    import pandas as pd

    from ..plots import save_figure, training_curves

    history = pd.read_csv(train_log_csv)
    save_figure(training_curves(history, f"{run}: training curves"), out_png, out_svg)
    log(f"plotted {len(history)} epochs")


def plot_latents(
    latents: PathLike, run: str, max_points: int, seed: int, out_png: PathLike, out_svg: PathLike, projection: str = "pca", log: Log = quiet
) -> None:
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
        projection,
    )
    save_figure(fig, out_png, out_svg)
    log(f"plotted {len(test)} test latents")


def _load_walk(table: PathLike, decoded: PathLike) -> tuple[Any, Any]:
    """A path table (sorted by path and step) and its decoded images ``(paths, steps, H, W)``."""
    import numpy as np

    from ..io import read_parquet

    frame, _ = read_parquet(table)
    frame = frame.sort_values(["path_id", "step"], kind="stable").reset_index(drop=True)
    with np.load(decoded) as handle:
        images = handle["images"]
    if len(frame) != images.shape[0] * images.shape[1]:
        raise LatentwalkError(f"{table} has {len(frame)} points but {decoded} holds {images.shape[0]}x{images.shape[1]} frames")
    return frame, images


def _first(frame: Any, path_id: int, column: str) -> Any:
    return frame.loc[frame["path_id"] == path_id, column].iloc[0]


def _label(value: Any) -> str:
    """A class id as '3', an angle label as '57°'."""
    import numpy as np

    number = float(value)
    return str(int(number)) if number.is_integer() else f"{np.degrees(number):.0f}°"


def plot_grid(table: PathLike, decoded: PathLike, run: str, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """The decoded latent grid of one run."""
    from ..plots import decoded_grid_figure, save_figure

    frame, images = _load_walk(table, decoded)
    u = frame[frame["path_id"] == 0]["u"].to_numpy()
    v = frame.groupby("path_id")["v"].first().to_numpy()
    coordinates = str(frame["coordinates"].iloc[0])
    n = images.shape[0]
    where = "latent plane" if coordinates == "latent" else "top-2 PC plane through the latent mean"
    save_figure(decoded_grid_figure(images, u, v, coordinates, f"{run}: decoded {n}x{n} grid over the {where}"), out_png, out_svg)
    log(f"grid {n}x{n} ({coordinates})")


def plot_interpolation_strips(
    run: str, tables: Sequence[str], decoded: Sequence[str], max_pairs: int, out_png: PathLike, out_svg: PathLike, log: Log = quiet
) -> None:
    """One row per (pair, method): lerp / slerp / lerp_matched / geodesic of the same pair adjacent."""
    from ..plots import image_rows_figure, save_figure

    walks = {}
    for table, npz in zip(tables, decoded):
        frame, images = _load_walk(table, npz)
        walks[str(frame["method"].iloc[0])] = (frame, images)
    order = [m for m in ("lerp", "slerp", "lerp_matched", "geodesic") if m in walks]
    if not order:
        raise LatentwalkError(f"{run}: no interpolation paths to draw")
    first_frame = walks[order[0]][0]
    pairs = sorted(first_frame["pair"].unique())[:max_pairs]
    rows, labels = [], []
    for pair in pairs:
        for method in order:
            frame, images = walks[method]
            ids = frame.loc[frame["pair"] == pair, "path_id"].unique()
            if len(ids) == 0:
                continue
            pid = int(ids[0])
            rows.append(images[pid])
            a, b = _label(_first(frame, pid, "label_a")), _label(_first(frame, pid, "label_b"))
            labels.append(f"pair {pair} ({a}→{b}) {method}")
    steps = max(len(r) for r in rows)
    fig = image_rows_figure(rows, labels, f"{run}: interpolations between encoded test pairs (endpoints framed)",
                            col_labels=[f"{t:.2g}" for t in [k / (steps - 1) for k in range(steps)]], col_title="t",
                            mark_ends=True, group_size=len(order))
    save_figure(fig, out_png, out_svg)
    log(f"{len(rows)} strips ({len(pairs)} pairs x {order})")


def plot_prior_pair_strips(run: str, table: PathLike, decoded: PathLike, max_pairs: int, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """Prior pairs (endpoints on the sqrt(d) sphere): lerp, slerp and lerp_matched rows per pair."""
    from ..plots import image_rows_figure, save_figure

    frame, images = _load_walk(table, decoded)
    rows, labels = [], []
    variants = list(dict.fromkeys(frame["variant"]))
    for pair in sorted(frame["pair"].unique())[:max_pairs]:
        for variant in variants:
            pid = int(frame.loc[(frame["pair"] == pair) & (frame["variant"] == variant), "path_id"].iloc[0])
            rows.append(images[pid])
            labels.append(f"prior pair {pair} {variant}")
    steps = images.shape[1]
    d = sum(1 for c in frame.columns if c.startswith("z_"))
    fig = image_rows_figure(rows, labels, f"{run}: walks between N(0, I) samples scaled to |z| = √{d}",
                            col_labels=[f"{k / (steps - 1):.2g}" for k in range(steps)], col_title="t",
                            mark_ends=True, group_size=len(variants))
    save_figure(fig, out_png, out_svg)
    log(f"{len(rows)} prior-pair strips")


def plot_traversal(method: str, run: str, table: PathLike, decoded: PathLike, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """Axis traversal (rows = dims), PCA traversal (rows = components), attribute walks, or the sphere-spiral walk."""
    import numpy as np

    from ..plots import image_rows_figure, save_figure

    frame, images = _load_walk(table, decoded)
    ids = sorted(frame["path_id"].unique())
    if method == "traverse_axis":
        labels = [f"z_{int(_first(frame, p, 'dim'))}" for p in ids]
        cols = [f"{x:+.2g}" for x in frame.loc[frame["path_id"] == ids[0], "delta"]]
        title, col_title, rows = f"{run}: one latent coordinate at a time", "δ added to the coordinate", list(images)
    elif method == "traverse_pca":
        labels = [f"PC{int(_first(frame, p, 'component')) + 1} (σ={_first(frame, p, 'component_std'):.2g})" for p in ids]
        cols = [f"{x:+.2g}" for x in frame.loc[frame["path_id"] == ids[0], "delta"]]
        title, col_title, rows = f"{run}: along the principal directions of the encoded means", "δ (standard deviations)", list(images)
    elif method == "attribute":
        labels = [f"+α(μ{int(_first(frame, p, 'class_a'))} − μ{int(_first(frame, p, 'class_b'))}) from #{int(_first(frame, p, 'index_start'))}"
                  for p in ids]
        cols = [f"{x:.2g}" for x in frame.loc[frame["path_id"] == ids[0], "alpha"]]
        title, col_title, rows = f"{run}: latent arithmetic z + α (mean(A) − mean(B))", "α", list(images)
    elif method == "sphere_spiral":
        walk = images[0]
        per_row = 24
        pick = np.linspace(0, len(walk) - 1, per_row * 3).round().astype(int)
        rows = [walk[pick[k * per_row : (k + 1) * per_row]] for k in range(3)]
        t = frame["t"].to_numpy()
        labels = [f"t {t[pick[k * per_row]]:.2f}–{t[pick[(k + 1) * per_row - 1]]:.2f}" for k in range(3)]
        cols = None
        radius = float(frame["radius"].iloc[0])
        title, col_title = f"{run}: spiral on the sphere |z| = {radius:.3g}, read left to right", ""
    else:
        raise LatentwalkError(f"no traversal figure for method {method!r}")
    fig = image_rows_figure(rows, labels, title, col_labels=cols, col_title=col_title)
    save_figure(fig, out_png, out_svg)
    log(f"{method}: {len(rows)} rows")


def plot_spiral(run: str, table: PathLike, decoded: PathLike, fps: int, out_png: PathLike, out_svg: PathLike, out_gif: PathLike, log: Log = quiet) -> None:
    """The 2-D spiral walk (figure) and its animation (GIF, one frame per step)."""
    from ..plots import save_figure, spiral_animation, spiral_figure

    frame, images = _load_walk(table, decoded)
    xy = frame[["z_0", "z_1"]].to_numpy()
    t = frame["t"].to_numpy()
    save_figure(spiral_figure(xy, t, images[0], f"{run}: spiral walk x(t) = (0.2t − 2) sin t, y(t) = (0.2t − 2) cos t"), out_png, out_svg)
    n = spiral_animation(xy, images[0], out_gif, f"{run}: spiral walk", fps)
    log(f"spiral figure and {n}-frame GIF")


def sphere_geometry(dim: int, steps: int, loops: float, uniform: int, seed: int, out_parquet: PathLike, log: Log = quiet) -> None:
    """The geometry figure's data: a spiral on the unit sphere in R^dim and a uniform sample of that sphere."""
    import numpy as np
    import pandas as pd

    from ..io import write_parquet
    from ..paths import sphere_spiral

    walk = sphere_spiral(dim, steps, loops, radius=1.0)
    rng = np.random.default_rng([seed, dim])
    sample = rng.standard_normal((uniform, dim))
    sample /= np.linalg.norm(sample, axis=1, keepdims=True)
    columns = {f"z_{i}": np.concatenate([walk.z[:, i], sample[:, i]]) for i in range(dim)}
    frame = pd.DataFrame({"kind": ["spiral"] * steps + ["uniform"] * uniform, "t": np.concatenate([walk.columns["t"], np.full(uniform, np.nan)]), **columns})
    write_parquet(frame, out_parquet, {"dim": dim, "steps": steps, "loops": loops, "uniform": uniform, "seed": seed})
    log(f"sphere spiral in R^{dim}: {steps} points, {loops} loops; {uniform} uniform points")


def plot_sphere(table: PathLike, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """3-D: the spiral on the sphere with the uniform sample and three projections; n > 3: all pairwise projections."""
    from ..figures_geometry import sphere_projections_figure, sphere_spiral_figure
    from ..io import read_parquet
    from ..plots import save_figure

    frame, meta = read_parquet(table)
    dim = int(meta["dim"])
    cols = [f"z_{i}" for i in range(dim)]
    spiral = frame.loc[frame["kind"] == "spiral", cols].to_numpy()
    uniform = frame.loc[frame["kind"] == "uniform", cols].to_numpy()
    title = f"spiral on the unit sphere in R^{dim} ({meta['loops']:g} loops, {meta['steps']} points)"
    fig = sphere_spiral_figure(spiral, uniform, title) if dim == 3 else sphere_projections_figure(spiral, title)
    save_figure(fig, out_png, out_svg)
    log(f"sphere figure for n = {dim}")


def plot_hypersphere(table_csv: PathLike, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """Unit-ball volume and sphere surface against n."""
    import pandas as pd

    from ..figures_geometry import hypersphere_figure
    from ..plots import save_figure

    save_figure(hypersphere_figure(pd.read_csv(table_csv)), out_png, out_svg)
    log("hypersphere figure")


def plot_norm_concentration(table_csv: PathLike, hist_csv: PathLike, out: dict[str, PathLike], log: Log = quiet) -> None:
    """Histograms of |z| per dim against chi(d), and the shell's relative width against d."""
    import pandas as pd

    from ..figures_geometry import norm_histogram_figure, shell_width_figure
    from ..plots import save_figure

    table = pd.read_csv(table_csv)
    save_figure(norm_histogram_figure(pd.read_csv(hist_csv), table), out["histograms_png"], out["histograms_svg"])
    save_figure(shell_width_figure(table), out["width_png"], out["width_svg"])
    log(f"norm concentration figures for {len(table)} dims")


def plot_path_norms(run: str, norms_csv: PathLike, dim: int, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """|z| along the run's interpolations against the chi(d) shell."""
    import pandas as pd

    from ..figures_geometry import path_norm_figure
    from ..plots import save_figure

    norms = pd.read_csv(norms_csv)
    save_figure(path_norm_figure(norms, dim, f"{run}: norm along interpolation paths"), out_png, out_svg)
    log(f"path norms of {norms['method'].nunique()} methods")


def plot_quality(run: str, quality_csv: PathLike, summary_csv: PathLike, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """Interpolation quality along paths: line metrics (lines) or classifier and nearest-neighbour scores (digits)."""
    import pandas as pd

    from ..figures_geometry import digit_quality_figure, line_quality_figure
    from ..plots import save_figure

    quality = pd.read_csv(quality_csv)
    summary = pd.read_csv(summary_csv)
    if "line_distance" in quality.columns:
        fig = line_quality_figure(quality, summary, f"{run}: distance to the nearest true line and smoothness")
    else:
        fig = digit_quality_figure(quality, summary, f"{run}: classifier confidence and distance to the data")
    save_figure(fig, out_png, out_svg)
    log("quality figure")
