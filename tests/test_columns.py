"""Reading tables without pandas: Parquet columns as numpy arrays, CSV columns as floats or typed as pandas types
them, latent tables checked alike whichever way they are read, the column helpers against pandas' operations, and
a run's figures drawn without pandas or scipy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from latentwalk.core.columns import columns_of, group_mean, n_rows, notna, ordered_unique, read_csv_table, sorted_by, take
from latentwalk.model.encode import latent_table
from latentwalk.core.latents import read_latent_columns, read_latents
from latentwalk.core.io import write_parquet as write_latents
from latentwalk.core.io import LatentwalkError, read_csv_columns, read_parquet, read_parquet_columns, write_parquet
from latentwalk.model.training import write_history_csv

from _helpers import PRINT_HEAVY_IMPORTS, one_line


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 40), seed=st.integers(0, 1000), group=st.integers(1, 7))
def test_parquet_columns_equal_pandas_reading(tmp_path_factory: pytest.TempPathFactory, n: int, seed: int, group: int) -> None:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "i64": rng.integers(-5, 5, n), "i8": rng.integers(-5, 5, n).astype(np.int8), "u16": rng.integers(0, 9, n).astype(np.uint16),
        "f32": rng.normal(size=n).astype(np.float32), "f64": rng.normal(size=n),
        "cat": pd.Categorical(rng.choice(["train", "test"], n), categories=["train", "test"]),
        "text": rng.choice(["a", "bc", "é"], n).astype(object),
        "holes": np.where(rng.random(n) < 0.3, np.nan, 1.0),
        "flag": rng.random(n) < 0.5,
    })
    path = tmp_path_factory.mktemp("t") / "t.parquet"
    write_parquet(frame, path, {"latent_dim": 1})
    pq.write_table(pq.read_table(path), path.with_suffix(".chunked.parquet"), row_group_size=group)  # several chunks
    for file in (path, path.with_suffix(".chunked.parquet")):
        columns, meta = read_parquet_columns(file)
        expected, _ = read_parquet(path)
        assert list(columns) == list(expected.columns)
        for name, values in columns.items():
            want = np.asarray(expected[name], dtype=object if name in ("cat", "text") else None)
            assert values.dtype == want.dtype and values.shape == (n,), name
            np.testing.assert_array_equal(values, want)
    assert meta == {"latent_dim": 1}


def test_parquet_columns_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(LatentwalkError) as excinfo:
        read_parquet_columns(bad)
    one_line(excinfo, str(bad))


def test_csv_columns_read_the_training_log_as_pandas_does(tmp_path: Path) -> None:
    rows = [{"epoch": e, "loss": 100.0 / e, "kl": 0.0, "critic": float("nan") if e == 2 else 0.5} for e in (1, 2, 3)]
    path = tmp_path / "train_log.csv"
    write_history_csv(rows, ["epoch", "loss", "kl", "critic"], path)
    columns = read_csv_columns(path)
    expected = pd.read_csv(path)
    assert list(columns) == list(expected.columns)
    for name, values in columns.items():
        np.testing.assert_array_equal(values, expected[name].to_numpy(dtype=np.float64))


#: Bad CSV files (missing.csv is never written).
_BAD_CSV = {"empty.csv": "", "ragged.csv": "a,b\n1,2\n3\n", "words.csv": "a\nx\n", "twice.csv": "a,a\n1,2\n"}


@pytest.mark.parametrize(("reader", "names"), [
    (read_csv_columns, ("empty.csv", "ragged.csv", "words.csv", "missing.csv")),  # numbers only
    (read_csv_table, ("empty.csv", "ragged.csv", "twice.csv", "missing.csv")),  # words are strings there
])
def test_csv_readers_refuse_bad_files_in_one_line(tmp_path: Path, reader, names: tuple[str, ...]) -> None:
    for name, text in _BAD_CSV.items():
        (tmp_path / name).write_text(text)
    for name in names:
        with pytest.raises(LatentwalkError) as excinfo:
            reader(tmp_path / name)
        one_line(excinfo, name)


def _table(tmp_path: Path, edit=None, meta=None) -> Path:
    rng = np.random.default_rng(1)
    table = latent_table(rng.normal(size=(10, 3)), rng.normal(size=(10, 3)), np.arange(10) % 3,
                         np.array(["train", "test"] * 5))
    if edit is not None:
        table = edit(table)
    path = tmp_path / "latents.parquet"
    write_latents(table, path, meta if meta is not None else {"latent_dim": 3, "variational": True})
    return path


def _split(t: pd.DataFrame) -> pd.DataFrame:
    return t.assign(split=np.where(np.arange(len(t)) == 0, "val", t["split"].astype(str)))


@pytest.mark.parametrize(
    ("edit", "meta", "message"),
    [
        (None, {"variational": True}, "no latentwalk metadata"),
        (lambda t: t.drop(columns="label"), None, "missing column(s) label"),
        (lambda t: t.drop(columns="mu_2"), None, "missing mu_2"),
        (None, {"latent_dim": 3}, "unexpected logvar_0"),
        (_split, None, "split holds ['val']"),
        (lambda t: t.assign(mu_1=np.where(np.arange(len(t)) == 3, np.inf, t["mu_1"])), None, "non-finite latent means"),
        (lambda t: t.assign(norm=t["norm"] + 1), None, "column norm is not |mu|"),
    ],
)
def test_latent_columns_are_checked_as_the_table_is(tmp_path: Path, edit, meta, message: str) -> None:
    path = _table(tmp_path, edit, meta)
    errors = []
    for reader in (read_latents, read_latent_columns):
        with pytest.raises(LatentwalkError) as excinfo:
            reader(path)
        one_line(excinfo, str(path))
        errors.append(str(excinfo.value))
    assert errors[0] == errors[1] and message in errors[0]


def test_latent_columns_equal_the_table(tmp_path: Path) -> None:
    path = _table(tmp_path)
    columns, meta = read_latent_columns(path)
    table, meta2 = read_latents(path)
    assert meta == meta2 and list(columns) == list(table.columns)
    for name in table.columns:
        np.testing.assert_array_equal(columns[name], np.asarray(table[name]))


def test_the_run_diagnostics_import_neither_pandas_nor_scipy(tmp_path: Path) -> None:
    """plot_run reads and draws both figures in a fresh interpreter without either (0.5 core-s of start-up), nor
    pyplot (figures are made on an Agg canvas: :func:`latentwalk.plots.new_figure`)."""
    latents = _table(tmp_path)
    history = tmp_path / "train_log.csv"
    write_history_csv([{"epoch": e, "loss": 9.0 / e, "reconstruction": 8.0 / e, "kl": 1.0} for e in (1, 2)],
                      ["epoch", "loss", "reconstruction", "kl"], history)
    out = {f"{n}_{e}": str(tmp_path / f"{n}.{e}") for n in ("training_curves", "latent_scatter") for e in ("png", "svg")}
    code = ("import sys; from latentwalk.stages.figures_run import plot_run; "
            f"plot_run('x/vae-z3', {str(history)!r}, {str(latents)!r}, 100, 'pca', 0, {out!r}); "
            + PRINT_HEAVY_IMPORTS)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert result.strip() == "[]"
    assert all(Path(f).stat().st_size > 1000 for f in out.values())


def test_parquet_columns_with_nulls_read_as_nan(tmp_path: Path) -> None:
    path = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"n": pa.array([1, None, 3], pa.int64()), "x": pa.array([None, 0.5, None], pa.float32())}), path)
    columns, _ = read_parquet_columns(path)
    np.testing.assert_array_equal(columns["n"], [1.0, np.nan, 3.0])
    np.testing.assert_array_equal(columns["x"], [np.nan, 0.5, np.nan])
    assert columns["n"].dtype == np.float64


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 30), seed=st.integers(0, 10_000))
def test_csv_table_types_each_column_as_pandas_does(tmp_path_factory: pytest.TempPathFactory, n: int, seed: int) -> None:
    """Integers, floats with blanks, booleans and strings with blanks: the values and kinds pandas reads."""
    rng = np.random.default_rng(seed)
    holes = rng.random(n) < 0.3
    frame = pd.DataFrame({
        "path_id": rng.integers(0, 5, n), "t": np.where(holes, np.nan, rng.random(n)),
        "inside": rng.random(n) < 0.5, "method": rng.choice(["lerp", "slerp", "prior_pairs"], n),
        "variant": np.where(holes, None, rng.choice(["lerp", "x y"], n)), "empty": np.full(n, np.nan),
        "whole": rng.integers(0, 3, n).astype(float),
    })
    path = tmp_path_factory.mktemp("csv") / "table.csv"
    frame.to_csv(path, index=False)
    expected, columns = pd.read_csv(path), read_csv_table(path)
    assert list(columns) == list(expected.columns) and n_rows(columns) == n
    for name, values in columns.items():
        want = expected[name].to_numpy()
        if want.dtype == object:  # strings: a blank is None in ours, NaN in pandas
            assert values.dtype == object
            assert [None if isinstance(w, float) else w for w in want] == values.tolist(), name
        else:
            assert values.dtype.kind == want.dtype.kind, name
            np.testing.assert_array_equal(values, want)
        np.testing.assert_array_equal(notna(values), expected[name].notna().to_numpy())


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 40), seed=st.integers(0, 10_000))
def test_column_helpers_equal_pandas(n: int, seed: int) -> None:
    """Stable sorting, selection, ordered distinct values and per-key means as pandas computes them."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"a": rng.integers(0, 3, n), "b": rng.integers(0, 3, n), "row": np.arange(n),
                          "t": np.round(rng.integers(0, 4, n) / 3, 12), "v": np.where(rng.random(n) < 0.2, np.nan, rng.normal(size=n))})
    columns = columns_of(frame)
    ordered = sorted_by(columns, ["a", "b"])
    np.testing.assert_array_equal(ordered["row"], frame.sort_values(["a", "b"], kind="stable")["row"].to_numpy())
    mask = frame["a"].to_numpy() == 1
    np.testing.assert_array_equal(take(columns, mask)["row"], frame[mask]["row"].to_numpy())
    assert ordered_unique(columns["b"]) == list(frame["b"].unique())
    keys, means, counts = group_mean(columns["t"], columns["v"])
    grouped = frame.dropna().groupby("t")["v"].agg(["mean", "count"])
    np.testing.assert_allclose(keys, grouped.index.to_numpy())
    np.testing.assert_allclose(means, grouped["mean"].to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(counts, grouped["count"].to_numpy())


def test_a_runs_path_measure_figures_are_drawn_without_pandas(tmp_path: Path) -> None:
    """The figure job's readers and the norm and quality figures, in a fresh interpreter: neither pandas nor scipy
    is imported (the job's path tables are read by read_parquet_columns, tested above), nor pyplot."""
    from test_figures_geometry import DIM, _norms, _quality

    _norms().to_csv(tmp_path / "path_norms.csv", index=False)
    quality, summary = _quality("digits")
    quality.to_csv(tmp_path / "path_quality.csv", index=False)
    summary.to_csv(tmp_path / "path_quality_summary.csv", index=False)
    out = {f"path_{n}_{e}": str(tmp_path / f"path_{n}.{e}") for n in ("norms", "quality") for e in ("png", "svg")}
    code = ("import sys; from latentwalk.stages.figures_walks import plot_path_measures; "
            f"plot_path_measures('x/vae-z{DIM}', {DIM}, {str(tmp_path / 'path_norms.csv')!r}, "
            f"{str(tmp_path / 'path_quality.csv')!r}, {str(tmp_path / 'path_quality_summary.csv')!r}, {out!r}); "
            + PRINT_HEAVY_IMPORTS)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert result.strip() == "[]"
    assert all(Path(f).stat().st_size > 1000 for f in out.values())
