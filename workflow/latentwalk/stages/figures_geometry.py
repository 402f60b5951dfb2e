"""Geometry figure stages (no model needed): the unit-sphere spirals, unit-ball volumes and Gaussian norm concentration."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..io import PathLike
from ..logs import Log, quiet


def unit_sphere_spiral(dim: int, steps: int, loops: float, uniform: int, seed: int, out_parquet: PathLike, log: Log = quiet) -> None:
    """The data of the unit-sphere figure: a spiral on the unit sphere in R^dim and a uniform sample of that sphere."""
    import numpy as np
    import pandas as pd

    from ..io import write_parquet
    from ..paths import sphere_spiral

    walk = sphere_spiral(dim, steps, loops, radius=1.0)
    rng = np.random.default_rng([seed, dim])
    sample = rng.standard_normal((uniform, dim))
    sample /= np.linalg.norm(sample, axis=1, keepdims=True)
    columns = {f"z_{i}": np.concatenate([walk.z[:, i], sample[:, i]]) for i in range(dim)}
    kind = ["spiral"] * steps + ["uniform"] * uniform
    frame = pd.DataFrame({"kind": kind, "t": np.concatenate([walk.columns["t"], np.full(uniform, np.nan)]), **columns})
    write_parquet(frame, out_parquet, {"dim": dim, "steps": steps, "loops": loops, "uniform": uniform, "seed": seed})
    log(f"spiral on the unit sphere in R^{dim}: {steps} points, {loops} loops; {uniform} uniform points")


def plot_unit_sphere_spiral(table: PathLike, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """3-D: the spiral on the sphere with the uniform sample and three projections; n > 3: all pairwise projections."""
    import numpy as np

    from ..figures_geometry import sphere_projections_figure, sphere_spiral_figure
    from ..io import read_parquet_columns
    from ..plots import save_figure

    frame, meta = read_parquet_columns(table)
    dim = int(meta["dim"])
    spiral, uniform = (np.column_stack([frame[f"z_{i}"][frame["kind"] == kind] for i in range(dim)])
                       for kind in ("spiral", "uniform"))
    title = f"spiral on the unit sphere in R^{dim} ({meta['loops']:g} loops, {meta['steps']} points)"
    fig = sphere_spiral_figure(spiral, uniform, title) if dim == 3 else sphere_projections_figure(spiral, title)
    save_figure(fig, out_png, out_svg)
    log(f"unit-sphere spiral figure for n = {dim}")


def plot_hypersphere(table_csv: PathLike, out_png: PathLike, out_svg: PathLike, log: Log = quiet) -> None:
    """Unit-ball volume and sphere surface against n."""
    from ..columns import read_csv_table
    from ..figures_geometry import hypersphere_figure
    from ..plots import save_figure

    save_figure(hypersphere_figure(read_csv_table(table_csv)), out_png, out_svg)
    log("hypersphere figure")


def plot_norm_concentration(table_csv: PathLike, hist_csv: PathLike, out: dict[str, PathLike], log: Log = quiet) -> None:
    """Histograms of |z| per dim against chi(d), and the shell's relative width against d."""
    from ..columns import n_rows, read_csv_table
    from ..figures_geometry import norm_histogram_figure, shell_width_figure
    from ..plots import save_figure

    table = read_csv_table(table_csv)
    save_figure(norm_histogram_figure(read_csv_table(hist_csv), table), out["histograms_png"], out["histograms_svg"])
    save_figure(shell_width_figure(table), out["width_png"], out["width_svg"])
    log(f"norm concentration figures for {n_rows(table)} dims")


def plot_geometry(spirals: Mapping[int, PathLike], hypersphere_csv: PathLike, norm_csv: PathLike, hist_csv: PathLike,
                  out_dir: PathLike, log: Log = quiet) -> None:
    """Every geometry figure into ``out_dir`` (PNG + SVG each): ``hypersphere``, ``norm_histograms``, ``shell_width``
    and ``unit_sphere_spiral_n{n}`` for each dimension n -> spiral table of ``spirals``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot_hypersphere(hypersphere_csv, out / "hypersphere.png", out / "hypersphere.svg", log)
    plot_norm_concentration(norm_csv, hist_csv, {"histograms_png": out / "norm_histograms.png",
                                                 "histograms_svg": out / "norm_histograms.svg",
                                                 "width_png": out / "shell_width.png", "width_svg": out / "shell_width.svg"}, log)
    for n, table in spirals.items():
        plot_unit_sphere_spiral(table, out / f"unit_sphere_spiral_n{n}.png", out / f"unit_sphere_spiral_n{n}.svg", log)
