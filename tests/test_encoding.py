"""Tests for latentwalk.core.latents and stages.encode: the latent Parquet tables."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from _helpers import one_line as _one_line
from hypothesis import given, settings
from hypothesis import strategies as st

from latentwalk.core.io import LatentwalkError, sha256_file
from latentwalk.core.io import write_parquet as write_latents
from latentwalk.core.latents import METADATA_KEY, latent_matrix, read_latents
from latentwalk.data.dataset import Dataset, load_dataset, save_dataset
from latentwalk.data.prepare import make_lines
from latentwalk.model import encode as encode_stage
from latentwalk.model import training as train_stage
from latentwalk.model.checkpoint import load_model
from latentwalk.model.encode import encode_images, latent_table
from latentwalk.model.networks import ModelSpec

MODEL_PARAMS = {"architecture": "mlp", "likelihood": "bernoulli", "hidden": [16]}
TRAIN_PARAMS = {"epochs": 2, "batch_size": 32, "learning_rate": 1e-3, "threads": 1, "kl_warmup_epochs": 0}
RUNS = [("ae", 2), ("vae", 2), ("beta_vae-b4", 3)]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny class-labelled dataset (80 images, shuffled split) and three trained runs."""
    root = tmp_path_factory.mktemp("encode")
    rng = np.random.default_rng(5)
    n = 80
    split = np.array(["train"] * 60 + ["test"] * 20)
    rng.shuffle(split)
    dataset = Dataset(
        images=rng.random((n, 8, 8)).astype(np.float32),
        labels=rng.integers(0, 10, n).astype(np.int64),
        split=split,
        label_kind="class",
    )
    save_dataset(dataset, root / "tiny.npz")
    for kind, dim in RUNS:
        out = root / f"{kind}-z{dim}"
        train_stage.train(
            data_npz=root / "tiny.npz",
            run=f"tiny/{kind}-z{dim}",
            model_params=MODEL_PARAMS,
            train_params=TRAIN_PARAMS,
            seed=3,
            device="cpu",
            out={"model": out / "model.pt", "history": out / "train_log.csv", "meta": out / "meta.json"},
        )
    return root


def _encode(root: Path, kind: str, dim: int, out: Path, batch_size: int = 2048, dim_arg: int | None = None,
            data: Path | None = None, meta: Path | None = None) -> None:
    run = root / f"{kind}-z{dim}"
    encode_stage.encode(
        data_npz=data or root / "tiny.npz",
        model_files={"model": run / "model.pt", "meta": meta or run / "meta.json"},
        dim=dim if dim_arg is None else dim_arg,
        batch_size=batch_size,
        device="cpu",
        out_parquet=out,
    )


@pytest.mark.parametrize(("kind", "dim"), RUNS)
def test_encode_table_contents(workdir: Path, tmp_path: Path, kind: str, dim: int) -> None:
    out = tmp_path / "latents.parquet"
    _encode(workdir, kind, dim, out)
    table, meta = read_latents(out)
    data = load_dataset(workdir / "tiny.npz")
    n = data.images.shape[0]

    mu_cols = [f"mu_{i}" for i in range(dim)]
    lv_cols = [f"logvar_{i}" for i in range(dim)] if kind != "ae" else []
    assert list(table.columns) == ["index", "split", "label", *mu_cols, *lv_cols, "norm"]
    assert len(table) == n
    assert table["index"].tolist() == list(range(n))
    assert table["split"].astype(str).tolist() == data.split.tolist()
    assert set(table["split"].astype(str)) == {"train", "test"}
    np.testing.assert_array_equal(table["label"].to_numpy(), data.labels)
    assert table["label"].dtype == np.int64

    mu = latent_matrix(table)
    assert mu.shape == (n, dim)
    np.testing.assert_allclose(table["norm"].to_numpy(), np.linalg.norm(mu.astype(np.float64), axis=1), rtol=0, atol=1e-6)

    # the table holds exactly the encoder means of the stored model
    spec = ModelSpec.from_dict(json.loads((workdir / f"{kind}-z{dim}" / "meta.json").read_text())["config"]["model"])
    model = load_model(workdir / f"{kind}-z{dim}" / "model.pt", spec)
    with torch.no_grad():
        ref_mu, ref_lv = model.encode(torch.as_tensor(data.images))
    np.testing.assert_array_equal(mu, ref_mu.numpy())
    if kind == "ae":
        assert ref_lv is None
        assert not any(c.startswith("logvar_") for c in table.columns)
    else:
        np.testing.assert_array_equal(latent_matrix(table, "logvar"), ref_lv.numpy())

    assert meta["latent_dim"] == dim
    assert meta["variational"] is (kind != "ae")
    assert meta["label_kind"] == "class"
    assert meta["run"] == f"tiny/{kind}-z{dim}"
    assert meta["model_sha256"] == sha256_file(workdir / f"{kind}-z{dim}" / "model.pt")
    assert meta["data_sha256"] == sha256_file(workdir / "tiny.npz")


@pytest.mark.parametrize(("kind", "dim"), [("ae", 2), ("vae", 2)])
def test_encode_twice_is_identical(workdir: Path, tmp_path: Path, kind: str, dim: int) -> None:
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    _encode(workdir, kind, dim, a)
    _encode(workdir, kind, dim, b)
    ta, ma = read_latents(a)
    tb, mb = read_latents(b)
    pd.testing.assert_frame_equal(ta, tb, check_exact=True)
    assert ma == mb
    assert a.read_bytes() == b.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.parquet", "b.parquet"]


def test_encode_batch_size_does_not_change_result(workdir: Path, tmp_path: Path) -> None:
    big, small = tmp_path / "big.parquet", tmp_path / "small.parquet"
    _encode(workdir, "vae", 2, big)
    _encode(workdir, "vae", 2, small, batch_size=7)
    tb, _ = read_latents(big)
    ts, _ = read_latents(small)
    assert len(ts) == len(tb) == 80
    np.testing.assert_allclose(latent_matrix(ts), latent_matrix(tb), rtol=0, atol=1e-6)
    np.testing.assert_allclose(latent_matrix(ts, "logvar"), latent_matrix(tb, "logvar"), rtol=0, atol=1e-6)


def test_encode_dim_mismatch_raises(workdir: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.parquet"
    meta = workdir / "vae-z2" / "meta.json"
    with pytest.raises(LatentwalkError) as excinfo:
        _encode(workdir, "vae", 2, out, dim_arg=5)
    _one_line(excinfo, str(meta), "z5")
    assert not out.exists()


def test_encode_edited_meta_mismatch_raises(workdir: Path, tmp_path: Path) -> None:
    record = json.loads((workdir / "vae-z2" / "meta.json").read_text())
    record["config"]["model"]["latent_dim"] = 4
    bad = tmp_path / "meta.json"
    bad.write_text(json.dumps(record))
    out = tmp_path / "x.parquet"
    with pytest.raises(LatentwalkError) as excinfo:
        _encode(workdir, "vae", 2, out, meta=bad)
    _one_line(excinfo, str(bad), "4", "z2")
    assert not out.exists()


def test_encode_unreadable_meta_raises(workdir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "meta.json"
    bad.write_text("{not json")
    with pytest.raises(LatentwalkError, match="meta.json"):
        _encode(workdir, "vae", 2, tmp_path / "x.parquet", meta=bad)


def test_encode_angle_labels(workdir: Path, tmp_path: Path) -> None:
    lines = make_lines(40, 0.25, seed=1, size=8, length=3.0, width=1.0, supersample=2)
    data = tmp_path / "lines.npz"
    save_dataset(lines, data)
    out = tmp_path / "lines.parquet"
    # the ae-z2 weights fit any 8x8 dataset
    _encode(workdir, "ae", 2, out, data=data)
    table, meta = read_latents(out)
    assert meta["label_kind"] == "angle"
    assert table["label"].dtype == np.float64
    np.testing.assert_array_equal(table["label"].to_numpy(), lines.labels)
    assert (table["split"] == "test").sum() == 10


# --------------------------------------------------------------------------- pure functions


def test_latent_table_rejects_length_mismatch() -> None:
    mu = np.zeros((4, 2), np.float32)
    with pytest.raises(LatentwalkError) as excinfo:
        latent_table(mu, None, np.zeros(3), np.array(["train"] * 4))
    _one_line(excinfo, "4 latents")
    with pytest.raises(LatentwalkError):
        latent_table(mu, None, np.zeros(4), np.array(["train"] * 5))


def test_latent_table_norm_and_dtypes() -> None:
    mu = np.array([[3.0, 4.0], [0.0, 0.0], [-1.0, 1.0]])
    logvar = np.full((3, 2), -1.0)
    table = latent_table(mu, logvar, np.array([1, 2, 3]), np.array(["train", "test", "train"]))
    np.testing.assert_allclose(table["norm"], [5.0, 0.0, np.sqrt(2.0)], rtol=0, atol=1e-12)
    assert table["mu_0"].dtype == np.float32 and table["logvar_1"].dtype == np.float32
    assert table["index"].dtype == np.int64
    assert list(table["split"].cat.categories) == ["train", "test"]


def test_write_read_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    mu = rng.normal(size=(12, 3))
    table = latent_table(mu, None, np.arange(12) % 4, np.array(["train", "test"] * 6))
    path = tmp_path / "t.parquet"
    write_latents(table, path, {"b": 1, "a": [1, 2], "run": "x/ae-z3", "latent_dim": 3})
    back, meta = read_latents(path)
    pd.testing.assert_frame_equal(back, table, check_exact=True)
    assert meta == {"a": [1, 2], "b": 1, "run": "x/ae-z3", "latent_dim": 3}
    import pyarrow.parquet as pq

    raw = pq.read_schema(path).metadata[METADATA_KEY]
    assert json.loads(raw) == meta


def test_read_latents_bad_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    path.write_bytes(b"definitely not parquet")
    with pytest.raises(LatentwalkError) as excinfo:
        read_latents(path)
    _one_line(excinfo, str(path))


def test_latent_matrix_numeric_order() -> None:
    d = 12
    mu = np.arange(3 * d, dtype=np.float32).reshape(3, d)
    lexical = sorted(f"mu_{i}" for i in range(d))  # mu_0, mu_1, mu_10, mu_11, mu_2, ...
    assert lexical[2] == "mu_10"
    table = pd.DataFrame({c: mu[:, int(c[3:])] for c in lexical})
    table["norm"] = 0.0
    out = latent_matrix(table)
    np.testing.assert_array_equal(out, mu)
    cols_in_order = [f"mu_{i}" for i in range(d)]
    assert cols_in_order.index("mu_10") == cols_in_order.index("mu_9") + 1


@settings(max_examples=30, deadline=None)
@given(d=st.integers(1, 25), perm_seed=st.integers(0, 2**16))
def test_latent_matrix_any_column_order(d: int, perm_seed: int) -> None:
    rng = np.random.default_rng(perm_seed)
    mu = rng.normal(size=(4, d))
    logvar = rng.normal(size=(4, d))
    table = latent_table(mu, logvar, np.zeros(4, np.int64), np.array(["train", "test", "test", "train"]))
    shuffled = table[list(rng.permutation(table.columns))]
    np.testing.assert_array_equal(latent_matrix(shuffled), mu.astype(np.float32))
    np.testing.assert_array_equal(latent_matrix(shuffled, "logvar"), logvar.astype(np.float32))


def test_latent_matrix_without_columns_raises() -> None:
    table = latent_table(np.zeros((2, 2)), None, np.zeros(2), np.array(["train", "test"]))
    with pytest.raises(LatentwalkError, match="logvar"):
        latent_matrix(table, "logvar")


def test_encode_images_batches_and_shapes(workdir: Path) -> None:
    meta = json.loads((workdir / "beta_vae-b4-z3" / "meta.json").read_text())
    spec = ModelSpec.from_dict(meta["config"]["model"])
    model = load_model(workdir / "beta_vae-b4-z3" / "model.pt", spec)
    images = load_dataset(workdir / "tiny.npz").images
    mu, logvar = encode_images(model, images, batch_size=2048)
    assert mu.shape == (80, 3) and logvar is not None and logvar.shape == (80, 3)
    mu_b, logvar_b = encode_images(model, images, batch_size=9)
    np.testing.assert_allclose(mu_b, mu, rtol=0, atol=1e-6)
    np.testing.assert_allclose(logvar_b, logvar, rtol=0, atol=1e-6)
    empty_mu, empty_lv = encode_images(model, images[:0])
    assert empty_mu.shape == (0, 3)


def test_encode_stage_copies_are_independent_of_location(workdir: Path, tmp_path: Path) -> None:
    """Moving the run directory does not change the table (no path-dependent content)."""
    moved = tmp_path / "moved"
    shutil.copytree(workdir, moved)
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    _encode(workdir, "vae", 2, a)
    _encode(moved, "vae", 2, b)
    assert a.read_bytes() == b.read_bytes()
