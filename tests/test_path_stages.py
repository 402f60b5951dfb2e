"""Tests for stages.paths.generate_paths and stages.decode.decode_paths on tiny trained runs (no Snakemake)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from _helpers import one_line

from latentwalk.core.config import load_schema, validate_config
from latentwalk.core.io import LatentwalkError, read_parquet, sha256_file, write_parquet
from latentwalk.core.io import write_parquet as write_latents
from latentwalk.core.latents import latent_matrix, read_latents
from latentwalk.core.registry import PAIR_INTERPOLATIONS as PAIR_METHODS
from latentwalk.core.registry import Run, applicable_methods
from latentwalk.data.dataset import Dataset, save_dataset
from latentwalk.data.prepare import load_digits
from latentwalk.model import encode as encode_stage
from latentwalk.model import training as train_stage
from latentwalk.model.checkpoint import load_model
from latentwalk.model.decode import decode_paths
from latentwalk.model.encode import latent_table
from latentwalk.model.networks import ModelSpec
from latentwalk.walks import geodesic as G
from latentwalk.walks import interpolate, pathset, traverse
from latentwalk.walks.generate import generate_paths
from latentwalk.walks.geodesic import DECODER_METHODS, decoder_paths

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = load_schema(ROOT / "workflow" / "schemas" / "config.schema.yaml")
SEED = 20171203
RUNS = [("vae", 2), ("ae", 3)]
MODEL_PARAMS = {"architecture": "mlp", "likelihood": "bernoulli", "hidden": [16]}
TRAIN_PARAMS = {"epochs": 2, "batch_size": 32, "learning_rate": 1e-3, "threads": 1, "kl_warmup_epochs": 0}

# the default config's paths section (keys and values from the schema)
PATHS_CFG = validate_config({}, SCHEMA)["paths"]

#: Parameter columns per method, beyond method / path_id / step / z_* / norm.
METHOD_COLUMNS = {
    "lerp": {"t"},
    "slerp": {"t", "omega"},
    "lerp_matched": {"t", "scale"},
    "geodesic": {"t", "energy", "line_energy", "dense_length", "line_dense_length", "not_shorter"},
    "prior_pairs": {"t", "pair", "variant"},
    "traverse_axis": {"delta", "dim"},
    "traverse_pca": {"delta", "component", "component_std"},
    "attribute": {"alpha", "class_a", "class_b", "direction_norm", "index_start"},
    "grid": {"u", "v", "coordinates"},
    "spiral": {"t"},
    "sphere_spiral": {"t", "theta_first", "theta_last", "radius"},
}
PAIR_COLUMNS = {"pair", "index_a", "index_b", "label_a", "label_b"}


def path_params(method: str, paths_cfg: dict[str, Any] = PATHS_CFG) -> dict[str, Any]:
    """As workflow/rules/common.smk: the method's section, plus the pair settings for pair-based methods."""
    params = copy.deepcopy(dict(paths_cfg[method]))
    if method in PAIR_METHODS:
        params["pairs"] = copy.deepcopy(dict(paths_cfg["pairs"]))
    return params


def _run_dir(root: Path, kind: str, dim: int) -> Path:
    return root / f"{kind}-z{dim}"


def _methods(kind: str, dim: int) -> list[str]:
    return applicable_methods(Run("digits", kind, dim), PATHS_CFG)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """150 digits (15 per class; 5 per class in the test split), a trained vae-z2 and ae-z3, encoded."""
    root = tmp_path_factory.mktemp("path_stages")
    full = load_digits(0.2, 0)
    rows = np.concatenate([np.flatnonzero(full.labels == c)[:15] for c in range(10)])
    split = np.tile(np.array(["train"] * 10 + ["test"] * 5), 10)
    dataset = Dataset(images=full.images[rows], labels=full.labels[rows], split=split, label_kind="class")
    save_dataset(dataset, root / "digits.npz")
    for kind, dim in RUNS:
        out = _run_dir(root, kind, dim)
        train_stage.train(
            data_npz=root / "digits.npz", run=f"digits/{kind}-z{dim}", model_params=MODEL_PARAMS,
            train_params=TRAIN_PARAMS, seed=3, device="cpu",
            out={"model": out / "model.pt", "history": out / "train_log.csv", "meta": out / "meta.json"},
        )
        encode_stage.encode(
            data_npz=root / "digits.npz", model_files={"model": out / "model.pt", "meta": out / "meta.json"}, dim=dim,
            batch_size=64, device="cpu", out_parquet=out / "latents.parquet",
        )
    return root


def rule_params(settings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The params of rules generate_paths and decoder_paths for methods with these settings (``path_params``):
    the seed, each method's section under its name, and the pair settings once."""
    params: dict[str, Any] = {"seed": SEED}
    for method, section in settings.items():
        section = dict(section)
        if "pairs" in section:
            params["pairs"] = section.pop("pairs")
        params[method] = section
    return params


def run_paths(run: str, methods: list[str], latents: Path, settings: dict[str, dict[str, Any]], out_dir: Path,
              model: Path | None = None, made: Path | None = None, log: Any = lambda _message: None) -> None:
    """The pipeline's two path jobs of one run: rule decoder_paths for its methods that need the decoder (``model``:
    the run's folder with model.pt and meta.json), into a folder beside ``out_dir``, then rule generate_paths."""
    decoder = [m for m in methods if m in DECODER_METHODS and m in settings]
    if decoder and model is not None:
        made = out_dir.parent / f".{out_dir.name}.made"
        decoder_paths(run=run, methods=decoder, inputs={"latents": latents, "model": model / "model.pt",
                                                          "meta": model / "meta.json"},
                      params={**rule_params({m: settings[m] for m in decoder}), "device": "cpu"}, out_dir=made, log=log)
    try:
        generate_paths(run=run, methods=methods, latents=latents,
                       params=rule_params({m: s for m, s in settings.items() if m not in DECODER_METHODS}),
                       out_dir=out_dir, made=made, log=log)
    finally:
        if decoder and model is not None:
            shutil.rmtree(made, ignore_errors=True)


def generate_one(method: str, latents: Path, params: dict[str, Any], out: Path, model: Path | None = None) -> None:
    """One method's table at ``out``, through the run-level stages (a run with this single method)."""
    _, meta = read_latents(latents)
    run_dir = out.parent / f".{out.stem}.run"
    try:
        run_paths(meta["run"], [method], latents, {method: params}, run_dir, model=model)
        out.parent.mkdir(parents=True, exist_ok=True)
        (run_dir / f"{method}.parquet").rename(out)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)


def _generate(root: Path, kind: str, dim: int, method: str, out: Path, **overrides: Any) -> None:
    run = _run_dir(root, kind, dim)
    params = path_params(method)
    params.update(overrides)
    generate_one(method, run / "latents.parquet", params, out, model=run)


@pytest.fixture(scope="module")
def generated(workdir: Path) -> dict[tuple[str, int], dict[str, tuple[Path, Path]]]:
    """Every applicable method of every run, generated twice into two folders."""
    out: dict[tuple[str, int], dict[str, tuple[Path, Path]]] = {}
    for kind, dim in RUNS:
        files = {}
        for method in _methods(kind, dim):
            first = workdir / "paths_a" / f"{kind}-z{dim}" / f"{method}.parquet"
            second = workdir / "paths_b" / f"{kind}-z{dim}" / f"{method}.parquet"
            _generate(workdir, kind, dim, method, first)
            _generate(workdir, kind, dim, method, second)
            files[method] = (first, second)
        out[(kind, dim)] = files
    return out


def _test_latents(root: Path, kind: str, dim: int) -> pd.DataFrame:
    table, _ = read_latents(_run_dir(root, kind, dim) / "latents.parquet")
    return table[table["split"] == "test"].reset_index(drop=True)


def _z(frame: pd.DataFrame, dim: int) -> np.ndarray:
    return frame[[f"z_{i}" for i in range(dim)]].to_numpy()


def _per_path(frame: pd.DataFrame, dim: int) -> np.ndarray:
    n_paths = frame["path_id"].nunique()
    return _z(frame, dim).reshape(n_paths, -1, dim)


def test_applicable_methods_of_the_fixture_runs() -> None:
    assert _methods("vae", 2) == PATHS_CFG["methods"]
    assert _methods("ae", 3) == [
        "lerp", "slerp", "lerp_matched", "traverse_axis", "traverse_pca", "attribute", "grid", "geodesic",
    ]


CASES = [(kind, dim, m) for kind, dim in RUNS for m in applicable_methods(Run("digits", kind, dim), PATHS_CFG)]


@pytest.mark.parametrize(("kind", "dim", "method"), CASES)
def test_generated_table(workdir: Path, generated: dict, kind: str, dim: int, method: str) -> None:
    first, second = generated[(kind, dim)][method]
    assert first.read_bytes() == second.read_bytes()  # deterministic

    frame, meta = read_parquet(first)
    z_cols = [f"z_{i}" for i in range(dim)]
    expected = {"method", "path_id", "step", *z_cols, "norm"} | METHOD_COLUMNS[method]
    if method in PAIR_METHODS:
        expected |= PAIR_COLUMNS
    assert set(frame.columns) == expected
    assert list(frame.columns[:1]) == ["method"]
    assert [c for c in frame.columns if c.startswith("z_")] == z_cols
    assert (frame["method"] == method).all()
    z = _z(frame, dim)
    assert np.isfinite(z).all()
    np.testing.assert_allclose(frame["norm"].to_numpy(), np.linalg.norm(z, axis=1), rtol=1e-12, atol=0)

    # paths are contiguous, ids 0 .. n-1, each with steps 0 .. S-1 in order
    ids = frame["path_id"].to_numpy()
    n_paths = len(np.unique(ids))
    steps = len(frame) // n_paths
    np.testing.assert_array_equal(ids, np.repeat(np.arange(n_paths), steps))
    np.testing.assert_array_equal(frame["step"].to_numpy(), np.tile(np.arange(steps), n_paths))

    assert meta["run"] == f"digits/{kind}-z{dim}"
    assert meta["method"] == method
    assert meta["latent_dim"] == dim
    assert meta["params"] == json.loads(json.dumps(path_params(method)))
    assert meta["seed"] == SEED
    assert meta["latents_sha256"] == sha256_file(_run_dir(workdir, kind, dim) / "latents.parquet")

    params = path_params(method)
    test = _test_latents(workdir, kind, dim)
    mu = latent_matrix(test).astype(np.float64)
    by_index = dict(zip(test["index"].to_numpy(), range(len(test))))
    per_path = _per_path(frame, dim)

    if method in PAIR_METHODS:
        n_pairs = params["pairs"]["n"] if method != "geodesic" else min(params["n_pairs"], params["pairs"]["n"])
        assert n_paths == n_pairs and steps == params["steps"]
        first_rows = frame[frame["step"] == 0]
        rows_a = [by_index[i] for i in first_rows["index_a"]]
        rows_b = [by_index[i] for i in first_rows["index_b"]]
        # endpoints are the encoded means of the test examples named in index_a / index_b
        np.testing.assert_array_equal(per_path[:, 0], mu[rows_a])
        np.testing.assert_array_equal(per_path[:, -1], mu[rows_b])
        np.testing.assert_array_equal(first_rows["label_a"], test["label"].to_numpy()[rows_a])
        np.testing.assert_array_equal(first_rows["label_b"], test["label"].to_numpy()[rows_b])
        np.testing.assert_array_equal(frame["pair"], frame["path_id"])
        assert params["pairs"]["mode"] == "cross_class"
        assert (first_rows["label_a"].to_numpy() != first_rows["label_b"].to_numpy()).all()
        expected_pairs = pathset.choose_pairs(test["label"].to_numpy(), "class", params["pairs"]["n"], "cross_class",
                                        np.random.default_rng(SEED))[:n_paths]
        np.testing.assert_array_equal(first_rows["index_a"], test["index"].to_numpy()[expected_pairs[:, 0]])
        np.testing.assert_array_equal(first_rows["index_b"], test["index"].to_numpy()[expected_pairs[:, 1]])
        for column in ("index_a", "index_b", "label_a", "label_b"):
            assert (frame.groupby("path_id")[column].nunique() == 1).all()
        za, zb = mu[rows_a], mu[rows_b]
        if method == "lerp":
            np.testing.assert_array_equal(z, interpolate.lerp(za, zb, steps).z)
        elif method == "slerp":
            np.testing.assert_array_equal(z, interpolate.slerp(za, zb, steps, params["normalize"]).z)
        elif method == "lerp_matched":
            np.testing.assert_array_equal(z, interpolate.lerp_matched(za, zb, steps).z)
        else:
            assert (frame["energy"] <= frame["line_energy"]).all()
    elif method == "prior_pairs":
        variants = params["variants"]
        assert n_paths == params["n"] * len(variants) and steps == params["steps"]
        np.testing.assert_array_equal(frame["variant"], np.repeat(variants, params["n"] * steps))
        ends = per_path[:, [0, -1]]
        np.testing.assert_allclose(np.linalg.norm(ends, axis=2), np.sqrt(dim), rtol=1e-12)
        n = params["n"]
        for v in range(1, len(variants)):
            np.testing.assert_array_equal(ends[v * n : (v + 1) * n], ends[:n])
    elif method == "traverse_axis":
        assert params["start"] == "origin" and params["dims"] is None
        assert n_paths == min(dim, params["max_dims"]) and steps == params["steps"]
        delta = np.linspace(-params["range"], params["range"], steps)
        order = np.argsort(-mu.var(axis=0), kind="stable")[: params["max_dims"]]
        np.testing.assert_array_equal(frame.groupby("path_id")["dim"].first(), order)
        for p, i in enumerate(order):
            expected_z = np.zeros((steps, dim))
            expected_z[:, i] = delta
            np.testing.assert_array_equal(per_path[p], expected_z)
    elif method == "traverse_pca":
        k = min(params["components"], dim)
        assert n_paths == k and steps == params["steps"]
        mean, basis, std = traverse.pca_basis(mu, params["components"])
        delta = np.linspace(-params["range"], params["range"], steps)
        for c in range(k):
            np.testing.assert_allclose(per_path[c], mean + (delta * std[c])[:, None] * basis[c], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(per_path[:, steps // 2], np.broadcast_to(mu.mean(axis=0), (k, dim)), rtol=1e-12, atol=1e-12)
    elif method == "attribute":
        assert n_paths == params["starts"] * len(params["class_pairs"]) and steps == params["steps"]
        alphas = np.linspace(params["alpha"][0], params["alpha"][1], steps)
        labels = test["label"].to_numpy()
        starts = frame[frame["step"] == 0]
        for (_, row), start in zip(starts.iterrows(), per_path[:, 0]):
            class_a, class_b = int(row["class_a"]), int(row["class_b"])
            assert [class_a, class_b] in params["class_pairs"]
            assert labels[by_index[row["index_start"]]] == class_b
            np.testing.assert_array_equal(start, mu[by_index[row["index_start"]]])
        for p in range(n_paths):
            rows = frame[frame["path_id"] == p]
            class_a, class_b = int(rows["class_a"].iloc[0]), int(rows["class_b"].iloc[0])
            direction = mu[labels == class_a].mean(axis=0) - mu[labels == class_b].mean(axis=0)
            np.testing.assert_array_equal(rows["alpha"], alphas)
            np.testing.assert_allclose(per_path[p], per_path[p, 0] + alphas[:, None] * direction, rtol=1e-12, atol=1e-12)
    elif method == "grid":
        n = params["n"]
        assert n_paths == n and steps == n
        coordinates = "latent" if (dim == 2 and kind != "ae") else "pca"
        assert (frame["coordinates"] == coordinates).all()
        reference = traverse.grid(n, params["extent"], coordinates, mu)
        np.testing.assert_allclose(z, reference.z, rtol=1e-12, atol=1e-12)
        if coordinates == "latent":
            np.testing.assert_array_equal(z, reference.z)
    elif method == "spiral":
        assert n_paths == 1 and steps == params["steps"]
        np.testing.assert_array_equal(z, traverse.spiral_xy(np.linspace(0, 3 * np.pi, steps)))
    elif method == "sphere_spiral":
        assert n_paths == 1 and steps == params["steps"]
        assert params["radius"] is None
        np.testing.assert_allclose(frame["norm"], np.sqrt(dim), rtol=1e-9)
        np.testing.assert_array_equal(z, traverse.sphere_spiral(dim, steps, params["loops"]).z)
    else:  # pragma: no cover
        pytest.fail(f"untested method {method}")


@pytest.mark.parametrize(("kind", "dim"), RUNS)
def test_pair_methods_share_endpoint_pairs(generated: dict, kind: str, dim: int) -> None:
    firsts = {}
    for method in (m for m in PAIR_METHODS if m != "geodesic_variance"):  # its own test: the variance-metric one
        frame, _ = read_parquet(generated[(kind, dim)][method][0])
        firsts[method] = frame[frame["step"] == 0][["pair", "index_a", "index_b", "label_a", "label_b"]].reset_index(drop=True)
    for method in ("slerp", "lerp_matched"):
        pd.testing.assert_frame_equal(firsts[method], firsts["lerp"])
    n_geo = len(firsts["geodesic"])
    assert n_geo == PATHS_CFG["geodesic"]["n_pairs"]
    pd.testing.assert_frame_equal(firsts["geodesic"], firsts["lerp"].iloc[:n_geo])


def test_geodesic_lengths_are_the_decoder_s_and_frames_are_evenly_spaced(workdir: Path, generated: dict) -> None:
    """The stored straight-line length is the dense decoded length of the line under the run's own decoder; the
    geodesic's frames are evenly spaced in image space, and each path is shorter than its line or flagged."""
    kind, dim = "vae", 2
    frame, meta = read_parquet(generated[(kind, dim)]["geodesic"][0])
    run = _run_dir(workdir, kind, dim)
    spec = ModelSpec.from_dict(json.loads((run / "meta.json").read_text())["config"]["model"])
    model = load_model(run / "model.pt", spec).float()  # the geodesics run in float32, as the model trained
    per_path = _per_path(frame, dim)
    params = meta["params"]

    def decode(z: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model.decode(torch.tensor(z, dtype=torch.float32)).double().numpy()

    firsts = frame.groupby("path_id").first()
    for k, path in enumerate(per_path):
        nodes = np.linspace(path[0], path[-1], params["nodes"][-1])
        _, cumulative = G.dense_length(decode, nodes, params["substeps"])
        assert firsts["line_dense_length"].iloc[k] == pytest.approx(cumulative[-1], rel=1e-6)
        assert bool(firsts["not_shorter"].iloc[k]) == (firsts["dense_length"].iloc[k] >= firsts["line_dense_length"].iloc[k])
        gaps = np.linalg.norm(np.diff(decode(path).reshape(len(path), -1), axis=0), axis=1)
        assert gaps.max() / gaps.min() < 1.5, gaps
    assert (firsts["energy"] <= firsts["line_energy"] * (1 + params["euclidean_weight"])).all()


# --------------------------------------------------------------------------- generate_paths variants and errors


def test_traverse_axis_start_mean_example_and_dims(workdir: Path, tmp_path: Path) -> None:
    kind, dim = "ae", 3
    mu = latent_matrix(_test_latents(workdir, kind, dim)).astype(np.float64)
    out = tmp_path / "t.parquet"
    _generate(workdir, kind, dim, "traverse_axis", out, start="mean", dims=[2, 0])
    frame, _ = read_parquet(out)
    per_path = _per_path(frame, dim)
    np.testing.assert_array_equal(frame.groupby("path_id")["dim"].first(), [2, 0])
    np.testing.assert_allclose(per_path[:, PATHS_CFG["traverse_axis"]["steps"] // 2], np.broadcast_to(mu.mean(axis=0), (2, dim)),
                               rtol=1e-12, atol=1e-12)
    _generate(workdir, kind, dim, "traverse_axis", out, start="example", max_dims=1)
    frame, _ = read_parquet(out)
    per_path = _per_path(frame, dim)
    centre = per_path[0, PATHS_CFG["traverse_axis"]["steps"] // 2]
    assert any(np.array_equal(centre, row) for row in mu)
    with pytest.raises(LatentwalkError) as excinfo:
        _generate(workdir, kind, dim, "traverse_axis", out, dims=[0, 3])
    one_line(excinfo, "out of range", "3")


def _synthetic_latents(path: Path, dim: int, label_kind: str, variational: bool = False, n: int = 40) -> None:
    rng = np.random.default_rng(dim)
    mu = rng.standard_normal((n, dim)).astype(np.float32)
    labels = rng.uniform(0, 2 * np.pi, n) if label_kind == "angle" else (np.arange(n, dtype=np.int64) // 2) % 4
    split = np.array(["train", "test"] * (n // 2))
    write_latents(latent_table(mu, None, labels, split), path,
                  {"run": f"synthetic/ae-z{dim}", "latent_dim": dim, "variational": variational, "label_kind": label_kind})


def _synthetic_generate(latents: Path, method: str, out: Path, **overrides: Any) -> None:
    params = path_params(method)
    params.update(overrides)
    generate_one(method, latents, params, out)


def test_angle_labelled_data_uses_random_pairs_and_refuses_attribute(tmp_path: Path) -> None:
    latents = tmp_path / "lines.parquet"
    _synthetic_latents(latents, 2, "angle")
    out = tmp_path / "lerp.parquet"
    _synthetic_generate(latents, "lerp", out)  # mode cross_class: ignored for angles
    frame, _ = read_parquet(out)
    table, _ = read_latents(latents)
    test = table[table["split"] == "test"].reset_index(drop=True)
    expected = pathset.choose_pairs(test["label"].to_numpy(), "angle", PATHS_CFG["pairs"]["n"], "random", np.random.default_rng(SEED))
    firsts = frame[frame["step"] == 0]
    np.testing.assert_array_equal(firsts["index_a"], test["index"].to_numpy()[expected[:, 0]])
    np.testing.assert_array_equal(firsts["index_b"], test["index"].to_numpy()[expected[:, 1]])
    with pytest.raises(LatentwalkError) as excinfo:
        _synthetic_generate(latents, "attribute", tmp_path / "attribute.parquet")
    one_line(excinfo, "angle")
    assert not (tmp_path / "attribute.parquet").exists()


def test_generate_paths_errors(tmp_path: Path) -> None:
    latents = tmp_path / "z3.parquet"
    _synthetic_latents(latents, 3, "class")
    cases = [
        ("spiral", {}, ("spiral", "d = 2", "d = 3")),
        ("grid", {"coordinates": "latent"}, ("paths.grid.coordinates", "d = 3")),
        ("attribute", {"class_pairs": [[0, 9]]}, ("paths.attribute.class_pairs", "class 9")),
        ("attribute", {"class_pairs": [[9, 0]]}, ("class 9",)),
        ("geodesic", {}, ("geodesic", "decoder_paths")),
    ]
    for method, overrides, needles in cases:
        out = tmp_path / f"{method}.parquet"
        with pytest.raises(LatentwalkError) as excinfo:
            _synthetic_generate(latents, method, out, **overrides)
        one_line(excinfo, *needles)
        assert not out.exists()
    with pytest.raises(LatentwalkError) as excinfo:
        generate_one("wobble", latents, {}, tmp_path / "w.parquet")
    one_line(excinfo, "'wobble'")
    with pytest.raises(LatentwalkError) as excinfo:
        generate_paths(run="x", methods=["lerp"], latents=latents, params={"seed": SEED}, out_dir=tmp_path / "run")
    one_line(excinfo, "no settings", "lerp")
    assert not (tmp_path / "run").exists()
    # grid auto on a non-variational 2-D run is the PCA plane
    latents2 = tmp_path / "z2.parquet"
    _synthetic_latents(latents2, 2, "class", variational=False)
    _synthetic_generate(latents2, "grid", tmp_path / "grid.parquet")
    frame, _ = read_parquet(tmp_path / "grid.parquet")
    assert (frame["coordinates"] == "pca").all()


def test_pairs_modes_in_the_stage(tmp_path: Path) -> None:
    latents = tmp_path / "z4.parquet"
    _synthetic_latents(latents, 4, "class")
    for mode, same in (("same_class", True), ("cross_class", False)):
        out = tmp_path / f"{mode}.parquet"
        _synthetic_generate(latents, "slerp", out, pairs={"n": 5, "mode": mode})
        frame, _ = read_parquet(out)
        firsts = frame[frame["step"] == 0]
        assert len(firsts) == 5
        assert ((firsts["label_a"] == firsts["label_b"]) == same).all()
        assert (firsts["index_a"] != firsts["index_b"]).all()


# --------------------------------------------------------------------------- decode


def _decode(workdir: Path, kind: str, dim: int, tables: list[Path], outs: list[Path], batch_size: int = 1024) -> None:
    """Decode ``tables`` into ``outs`` through the run-level stage (tables named ``{method}.parquet`` in one folder)."""
    run = _run_dir(workdir, kind, dim)
    paths_dir = outs[0].parent / ".paths"
    shutil.rmtree(paths_dir, ignore_errors=True)
    paths_dir.mkdir(parents=True)
    methods = [f"m{k}" for k in range(len(tables))]
    for method, table in zip(methods, tables):
        shutil.copy(table, paths_dir / f"{method}.parquet")
    out_dir = outs[0].parent / ".decoded"
    decode_paths(paths_dir=paths_dir, methods=methods, model_files={"model": run / "model.pt", "meta": run / "meta.json"},
                 batch_size=batch_size, device="cpu", out_dir=out_dir)
    for method, out in zip(methods, outs):
        (out_dir / f"{method}.npz").rename(out)
    shutil.rmtree(out_dir)
    shutil.rmtree(paths_dir)


@pytest.mark.parametrize(("kind", "dim"), RUNS)
def test_decode_every_table(workdir: Path, generated: dict, tmp_path: Path, kind: str, dim: int) -> None:
    methods = list(generated[(kind, dim)])
    tables = [generated[(kind, dim)][m][0] for m in methods]
    outs = [tmp_path / "a" / f"{m}.npz" for m in methods]
    again = [tmp_path / "b" / f"{m}.npz" for m in methods]
    _decode(workdir, kind, dim, tables, outs)
    _decode(workdir, kind, dim, tables, again, batch_size=7)  # batch size must not matter

    run = _run_dir(workdir, kind, dim)
    spec = ModelSpec.from_dict(json.loads((run / "meta.json").read_text())["config"]["model"])
    model = load_model(run / "model.pt", spec)
    for method, table, out, out2 in zip(methods, tables, outs, again):
        frame, _ = read_parquet(table)
        n_paths = frame["path_id"].nunique()
        steps = len(frame) // n_paths
        with np.load(out) as npz:
            assert set(npz.files) == {"images", "path_id", "step"}
            images = npz["images"]
            assert images.shape == (n_paths, steps, 8, 8, 1), method
            assert images.dtype == np.float32
            assert images.min() >= 0.0 and images.max() <= 1.0
            np.testing.assert_array_equal(npz["path_id"], np.arange(n_paths))
            np.testing.assert_array_equal(npz["step"], np.arange(steps))
            with torch.no_grad():
                reference = model.decode(torch.tensor(_z(frame, dim), dtype=torch.float32)).numpy()
            np.testing.assert_allclose(images, reference.reshape(images.shape), rtol=0, atol=1e-6)
        with np.load(out2) as npz2:
            np.testing.assert_allclose(npz2["images"], images, rtol=0, atol=1e-6)


def test_decode_is_deterministic(workdir: Path, generated: dict, tmp_path: Path) -> None:
    tables = [generated[("vae", 2)][m][0] for m in ("lerp", "grid", "prior_pairs")]
    a = [tmp_path / f"a{i}.npz" for i in range(3)]
    b = [tmp_path / f"b{i}.npz" for i in range(3)]
    _decode(workdir, "vae", 2, tables, a)
    _decode(workdir, "vae", 2, tables, b)
    for x, y in zip(a, b):
        assert x.read_bytes() == y.read_bytes()


def test_decode_latent_dim_mismatch_names_the_file(workdir: Path, generated: dict, tmp_path: Path) -> None:
    good = generated[("vae", 2)]["lerp"][0]
    wrong = generated[("ae", 3)]["lerp"][0]
    outs = [tmp_path / "good.npz", tmp_path / "wrong.npz"]
    with pytest.raises(LatentwalkError) as excinfo:
        _decode(workdir, "vae", 2, [good, wrong], outs)
    one_line(excinfo, "m1.parquet", "3", "2")
    assert not (tmp_path / ".decoded").exists() and not outs[0].exists()  # no half-written run directory
    run = _run_dir(workdir, "vae", 2)
    with pytest.raises(LatentwalkError) as excinfo:  # the directory must hold exactly the run's methods
        decode_paths(paths_dir=good.parent, methods=["lerp"], model_files={"model": run / "model.pt", "meta": run / "meta.json"},
                     batch_size=64, device="cpu", out_dir=tmp_path / "d")
    one_line(excinfo, str(good.parent), "expected lerp.npz".replace("npz", "parquet"))


def test_decode_rejects_ragged_paths(workdir: Path, generated: dict, tmp_path: Path) -> None:
    frame, meta = read_parquet(generated[("vae", 2)]["lerp"][0])
    ragged = tmp_path / "ragged.parquet"
    write_parquet(frame.iloc[:-1], ragged, meta)  # the last path loses its last step
    with pytest.raises(LatentwalkError) as excinfo:
        _decode(workdir, "vae", 2, [ragged], [tmp_path / "ragged.npz"])
    one_line(excinfo, "m0.parquet", "different step counts")
    assert not (tmp_path / "ragged.npz").exists()


def test_the_path_job_needs_no_torch(workdir: Path, generated: dict, tmp_path: Path) -> None:
    """A path setting reruns the path job of every run: in a fresh interpreter it never imports torch, and it
    writes the tables of ``generated``."""
    import subprocess
    import sys

    run = _run_dir(workdir, "vae", 2)
    methods = [m for m in _methods("vae", 2) if m != "geodesic"]
    settings_ = {m: path_params(m) for m in methods}
    code = ("import sys; from latentwalk.walks.generate import generate_paths; "
            f"generate_paths(run='digits/vae-z2', methods={methods!r}, latents={str(run / 'latents.parquet')!r}, "
            f"params={rule_params(settings_)!r}, out_dir={str(tmp_path / 'paths')!r}); "
            "print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"
    for method in methods:
        assert (tmp_path / "paths" / f"{method}.parquet").read_bytes() == generated[("vae", 2)][method][0].read_bytes()


@pytest.mark.parametrize(("kind", "dim"), RUNS)
def test_run_directory_holds_each_method_exactly_as_alone(workdir: Path, generated: dict, tmp_path: Path, kind: str, dim: int) -> None:
    """One job per run writes every method's table, each byte-identical to the method generated on its own."""
    run = _run_dir(workdir, kind, dim)
    methods = _methods(kind, dim)
    out = tmp_path / "paths"
    lines: list[str] = []
    run_paths(f"digits/{kind}-z{dim}", methods, run / "latents.parquet", {m: path_params(m) for m in methods}, out,
              model=run, log=lines.append)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{m}.parquet" for m in methods)
    for method in methods:
        assert (out / f"{method}.parquet").read_bytes() == generated[(kind, dim)][method][0].read_bytes(), method
    decoder = [m for m in methods if m in DECODER_METHODS]  # rule decoder_paths logs first, then generate_paths
    assert [line.split(":")[0] for line in lines
            if not line.startswith("geodesic (") and "magnification map" not in line] == decoder + methods
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary directory left


@pytest.mark.parametrize(("kind", "dim"), RUNS[:1])
def test_decoder_tables_made_apart_are_taken_in_byte_for_byte(workdir: Path, generated: dict, tmp_path: Path, kind: str,
                                                               dim: int) -> None:
    """The pipeline's split: the geodesic in its own job (rule decoder_paths), the rest from the latents alone, which
    copies the geodesic table in; the run's directory is what one job making every method writes. A table made from
    other latents is refused."""
    run = _run_dir(workdir, kind, dim)
    methods = _methods(kind, dim)
    assert "geodesic" in methods
    made = tmp_path / "made"
    decoder_paths(run=f"digits/{kind}-z{dim}", methods=["geodesic"],
                  inputs={"latents": run / "latents.parquet", "model": run / "model.pt", "meta": run / "meta.json"},
                  params={**rule_params({"geodesic": path_params("geodesic")}), "device": "cpu"}, out_dir=made)
    lines: list[str] = []
    latent_only = rule_params({m: path_params(m) for m in methods if m != "geodesic"})
    generate_paths(run=f"digits/{kind}-z{dim}", methods=methods, latents=run / "latents.parquet", params=latent_only,
                   out_dir=tmp_path / "paths", made=made, log=lines.append)
    for method in methods:
        assert (tmp_path / "paths" / f"{method}.parquet").read_bytes() == generated[(kind, dim)][method][0].read_bytes()
    assert any(line.startswith("geodesic: ") and "taken from" in line for line in lines)
    other = tmp_path / "other.parquet"
    frame, meta = read_parquet(run / "latents.parquet")
    write_parquet(frame, other, {**meta, "note": "another encoding"})  # valid latents, other bytes
    with pytest.raises(LatentwalkError) as excinfo:
        generate_paths(run="x", methods=methods, latents=other, params=latent_only, out_dir=tmp_path / "refused",
                       made=made)
    one_line(excinfo, "geodesic.parquet", "rerun its job")
    assert not (tmp_path / "refused").exists()
    with pytest.raises(LatentwalkError) as excinfo:  # no table made by rule decoder_paths
        generate_paths(run="x", methods=methods, latents=run / "latents.parquet", params=latent_only,
                       out_dir=tmp_path / "none")
    one_line(excinfo, "no table made", "geodesic", "decoder_paths")


def test_unknown_frame_scorer_is_one_line(tmp_path: Path) -> None:
    from latentwalk.measure.path_stats import path_stats

    with pytest.raises(LatentwalkError) as excinfo:
        path_stats(run="digits/ae-z2", methods=["lerp"], inputs={"paths": tmp_path, "decoded": tmp_path,
                   "latents": tmp_path / "l", "data": tmp_path / "d"}, scoring={"scorer": "psychic"}, out={})
    one_line(excinfo, "digits/ae-z2", "'psychic'", "lines", "classifier")


def test_the_variance_metric_fits_its_network_records_it_and_stays_shorter(workdir: Path, tmp_path: Path) -> None:
    """geodesic_variance beside geodesic (metric mean) in one job: the run's variance network is fitted (seeded
    k-means) and recorded beside the geodesics, both walk the same pairs, and every geodesic is measured under the
    metric it minimises (mean and standard deviation for the variance one)."""
    kind, dim = RUNS[0]
    run = _run_dir(workdir, kind, dim)
    settings = path_params("geodesic")
    settings.update(metric="mean", variance={"centres": 8, "reach": 0.5, "sigma_far": 1.0, "sigma_min": 0.05,
                                             "max_codes": 200})
    inputs = {"latents": run / "latents.parquet", "model": run / "model.pt", "meta": run / "meta.json",
              "data": workdir / "digits.npz"}
    lines: list[str] = []
    params = rule_params({"geodesic": settings, "geodesic_variance": {**settings, "metric": "variance"}})
    decoder_paths(run=f"digits/{kind}-z{dim}", methods=["geodesic", "geodesic_variance"], inputs=inputs,
                  params={**params, "device": "cpu"}, out_dir=tmp_path / "a", log=lines.append)
    fit = json.loads((tmp_path / "a" / "variance.json").read_text())
    assert fit["centres"] == 8 and fit["sigma_far"] == 1.0 and 0.05 <= fit["sigma_near_median"] < 1.0  # floor, far
    frame, _ = read_parquet(tmp_path / "a" / "geodesic_variance.parquet")
    mean, _ = read_parquet(tmp_path / "a" / "geodesic.parquet")
    assert (frame[["index_a", "index_b"]].to_numpy() == mean[["index_a", "index_b"]].to_numpy()).all()
    zs = [c for c in frame.columns if c.startswith("z_")]
    assert not np.allclose(frame[zs].to_numpy(), mean[zs].to_numpy(), atol=1e-4)  # another metric, other paths
    assert any(line.startswith("geodesic (variance metric) pair") for line in lines)
    assert any(line.startswith("geodesic (mean metric) pair") for line in lines)
    firsts = frame.groupby("path_id").first()
    assert bool(firsts["not_shorter"].any()) == bool((firsts["dense_length"] >= firsts["line_dense_length"]).any())
    assert (firsts["dense_length"] <= firsts["line_dense_length"] * 1.0001).all()
    grid = dict(np.load(tmp_path / "a" / "magnification.npz"))
    assert grid["values"].shape == grid["std"].shape == (40, 40) and np.isfinite(grid["values"]).all()
    assert 0 < grid["std"].min() and grid["std"].max() <= 1.0  # the variance network's sigma, at most sigma_far
    from latentwalk.figures.decoded import magnification_figure
    codes = np.zeros((5, 2))
    fig = magnification_figure(grid, codes, {"geodesic": np.zeros((1, 3, 2))}, ("z_0", "z_1"), "title")
    assert len(fig.axes) == 4  # the magnification and the standard deviation, each with its colour bar
