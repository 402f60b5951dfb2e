"""Tests for latentwalk.core.config: schema validation, defaults, one-line errors, run naming."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from _helpers import one_line
from latentwalk.core.config import iter_runs, key_path, load_schema, validate_config
from latentwalk.core.io import LatentwalkError
from latentwalk.core.registry import CLASS_DATASETS, Run, applicable_methods

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_PATH = ROOT / "workflow" / "schemas" / "config.schema.yaml"
CONFIG_PATH = ROOT / "config.yaml"

MNIST_SHA = {
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

DEFAULTS: dict[str, Any] = {
    "seed": 20171203,
    "device": "auto",
    "threads": 1,
    "datasets": ["digits", "lines"],
    "models": ["ae", "vae", "beta_vae"],
    "latent_dims": [2, 16],
    "external_models": {},
    "data": {
        "sources": {},
        "test_fraction": 0.2,
        "lines": {"n": 8000, "size": 32, "length": 15.0, "width": 2.0, "supersample": 8, "renderer": "acai"},
        "views": {"n": 2400, "size": 32, "objects": ["chair", "lblock", "mug", "house"], "elevation": [20.0, 20.0],
                  "supersample": 4, "channels": 1, "reference_azimuths": 720, "reference_elevations": 5},
        "mnist": {
            "dir": None,
            "base_url": None,
            "files": ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"],
            "sha256": MNIST_SHA,
            "timeout": 60,
        },
    },
    "model": {
        "architecture": "mlp",
        "architecture_per_dataset": {"views": "conv"},
        "hidden": [256, 128],
        "channels": [32, 64],
        "conv_hidden": 256,
        "depth": 16,
        "latent_width": 2,
        "likelihood": {"digits": "gaussian", "lines": "bernoulli", "mnist": "bernoulli", "views": "bernoulli"},
        "gaussian_sigma": 0.1,
        "beta": 4.0,
        "acai": {"lambda": 0.5, "gamma": 0.2},
        "dropout": 0.5,
        "denoising_sigma": 0.5,
    },
    "train": {
        "epochs": {"digits": 150, "lines": 40, "mnist": 30, "views": 30},
        "batch_size": 128,
        "kl_warmup_epochs": 0,
        "learning_rate": 0.001,
        "threads": 1,
    },
    "encode": {"batch_size": 2048},
    "paths": {
        "methods": [
            "lerp", "slerp", "lerp_matched", "prior_pairs", "traverse_axis", "traverse_pca", "attribute",
            "grid", "spiral", "sphere_spiral", "geodesic",
        ],
        "pairs": {"n": 6, "mode": "cross_class"},
        "lerp": {"steps": 11},
        "slerp": {"steps": 11, "normalize": "none"},
        "lerp_matched": {"steps": 11},
        "prior_pairs": {"n": 8, "steps": 11, "variants": ["lerp", "slerp", "lerp_matched"]},
        "traverse_axis": {"steps": 9, "range": 3.0, "start": "origin", "dims": None, "max_dims": 16},
        "traverse_pca": {"steps": 9, "range": 3.0, "components": 4},
        "attribute": {"steps": 9, "alpha": [0.0, 1.5], "class_pairs": [[7, 1], [8, 3]], "starts": 3},
        "grid": {"n": 15, "extent": 2.5, "coordinates": "auto"},
        "spiral": {"steps": 48},
        "sphere_spiral": {"steps": 240, "loops": 6, "radius": None},
        "geodesic": {"steps": 11, "n_pairs": 3, "nodes": [11, 21, 41], "iterations": 300, "straight_iterations": 30,
                     "tolerance": 1.0e-5, "euclidean_weight": 0.01, "substeps": 16, "metric": "mean",
                     "variance": {"centres": 32, "reach": 0.5, "sigma_far": 30.0, "sigma_min": 0.05,
                                  "max_codes": 2000}},
    },
    "decode": {"batch_size": 1024},
    "stats": {
        "norm_concentration": {
            "dims": [1, 2, 3, 5, 10, 20, 50, 100, 200, 500, 1000],
            "n": 100000,
            "chunk_elements": 4194304,
            "bins": 60,
        },
        "hypersphere": {"n_max": 50},
        "classifier": {"hidden": 128, "max_iter": 60},
    },
    "acai_benchmark": {
        "enabled": False, "models": ["ae", "dropout_ae", "denoising_ae", "vae", "acai"], "seeds": [1, 2, 3],
        "samples": 32768, "eval_every": 65536, "eval_pairs": 32, "frames": 16, "median_of": 20, "batch_size": 64,
        "learning_rate": 0.0001, "architecture": "acai_conv", "latent_dim": 64,
    },
    "explorer": {
        "projection": "pca",
        "max_points": 2000,
        "max_sliders": 10,
        "selftest_frames": 8,
        "overlays": [
            "lerp", "slerp", "lerp_matched", "geodesic", "geodesic_variance", "prior_pairs", "traverse_axis", "traverse_pca", "attribute",
            "sphere_spiral", "spiral",
        ],
    },
    "figures": {
        "scatter_max_points": 4000,
        "scatter_projection": "pca",
        "strip_pairs": 4,
        "gif_fps": 12,
        "sphere": {"dims": [3, 4], "steps": 1200, "loops": 10, "uniform": 1500},
    },
}
ALL_METHODS = DEFAULTS["paths"]["methods"]


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return load_schema(SCHEMA_PATH)


def _fails(config: dict[str, Any], schema: dict[str, Any], *needles: str) -> str:
    with pytest.raises(LatentwalkError) as excinfo:
        validate_config(copy.deepcopy(config), schema)
    message = str(excinfo.value)
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, (needle, message)
    return message


# --------------------------------------------------------------------------- valid configs


def test_repo_config_validates_and_fills_defaults(schema: dict[str, Any]) -> None:
    raw = yaml.safe_load(CONFIG_PATH.read_text())
    original = copy.deepcopy(raw)
    config = validate_config(raw, schema)
    assert config is raw  # filled in place
    # given values are kept
    assert config["seed"] == original["seed"]
    assert config["datasets"] == original["datasets"]
    assert config["model"]["likelihood"] == original["model"]["likelihood"]
    assert config["train"]["epochs"] == original["train"]["epochs"]
    # keys the file leaves out come from the schema
    assert config["data"]["mnist"]["files"] == DEFAULTS["data"]["mnist"]["files"]
    assert config["data"]["mnist"]["sha256"] == MNIST_SHA
    assert config["data"]["mnist"]["timeout"] == 60
    assert set(config) == set(DEFAULTS)
    for section in ("data", "model", "train", "encode", "paths", "decode", "figures"):
        assert set(config[section]) == set(DEFAULTS[section]), section
    for method, settings_ in DEFAULTS["paths"].items():
        if isinstance(settings_, dict):
            assert set(config["paths"][method]) == set(settings_), method
    # the repo config spells out the defaults of the paths and decode sections
    assert config["paths"] == DEFAULTS["paths"]
    assert config["decode"] == DEFAULTS["decode"]


def test_repo_config_runs_are_unique(schema: dict[str, Any]) -> None:
    """The repo config gives one uniquely named run per product element."""
    config = validate_config(yaml.safe_load(CONFIG_PATH.read_text()), schema)
    names = [run.name for run in iter_runs(config)]
    assert len(names) == len(config["datasets"]) * len(config["models"]) * len(config["latent_dims"])
    assert len(set(names)) == len(names)


def test_empty_config_gets_all_defaults(schema: dict[str, Any]) -> None:
    config: dict[str, Any] = {}
    assert validate_config(config, schema) == DEFAULTS
    assert config == DEFAULTS


def test_validation_is_idempotent(schema: dict[str, Any]) -> None:
    once = validate_config({}, schema)
    twice = validate_config(copy.deepcopy(once), schema)
    assert twice == once


def test_defaults_are_not_shared_between_configs(schema: dict[str, Any]) -> None:
    a = validate_config({}, schema)
    a["model"]["hidden"].append(5)
    a["data"]["mnist"]["sha256"]["x"] = "0" * 64
    b = validate_config({}, schema)
    assert b["model"]["hidden"] == [256, 128]
    assert "x" not in b["data"]["mnist"]["sha256"]


def test_partial_nested_section_keeps_given_and_fills_rest(schema: dict[str, Any]) -> None:
    config = validate_config({"data": {"lines": {"n": 50}}, "train": {"epochs": {"digits": 3}}}, schema)
    assert config["data"]["lines"] == {**DEFAULTS["data"]["lines"], "n": 50}
    assert config["train"]["epochs"] == {"digits": 3, "lines": 40, "mnist": 30, "views": 30}
    assert config["data"]["test_fraction"] == 0.2


@pytest.mark.parametrize(
    "config",
    [
        {"datasets": ["mnist"], "data": {"mnist": {"dir": "MNIST_DIR"}}},
        {"datasets": ["mnist"], "data": {"mnist": {"base_url": "https://example.org/mnist/"}}},
        {"datasets": ["mnist"], "data": {"mnist": {"dir": "MNIST_DIR", "base_url": "https://x/", "files": ["a", "b"]}}},
        {"datasets": ["digits", "mnist"], "model": {"architecture": "conv"}, "data": {"mnist": {"dir": "MNIST_DIR"}}},
        {"datasets": ["lines"], "model": {"architecture": "conv"}, "data": {"lines": {"size": 28}}},
        {"datasets": ["digits"], "model": {"architecture": "conv"}, "data": {"lines": {"size": 30}}},
        {"latent_dims": [1, 4096]},
        {"device": "cpu", "seed": 0},
    ],
)
def test_valid_configs_pass(schema: dict[str, Any], config: dict[str, Any], tmp_path: Path) -> None:
    (tmp_path / "t10k-images-idx3-ubyte.gz").touch()  # a folder with an MNIST file (data.mnist.dir is checked)
    mnist = config.get("data", {}).get("mnist", {})
    validate_config({**copy.deepcopy(config), **({"data": {"mnist": {**mnist, "dir": str(tmp_path)}}}
                                                 if mnist.get("dir") == "MNIST_DIR" else {})}, schema)


# --------------------------------------------------------------------------- errors


def test_unknown_top_level_key(schema: dict[str, Any]) -> None:
    message = _fails({"epochs": 3}, schema, "'epochs'", "unknown key")
    assert "allowed keys" in message and "latent_dims" in message


@pytest.mark.parametrize(
    ("config", "path", "key"),
    [
        ({"data": {"lines": {"bogus": 1}}}, "data.lines", "'bogus'"),
        ({"data": {"mnist": {"url": "x"}}}, "data.mnist", "'url'"),
        ({"encode": {"batchsize": 3}}, "encode", "'batchsize'"),
        ({"paths": {"wobble": {}}}, "paths", "'wobble'"),
        ({"paths": {"slerp": {"norm": "none"}}}, "paths.slerp", "'norm'"),
        ({"paths": {"pairs": {"count": 3}}}, "paths.pairs", "'count'"),
        ({"decode": {"batchsize": 3}}, "decode", "'batchsize'"),
    ],
)
def test_unknown_nested_key(schema: dict[str, Any], config: dict[str, Any], path: str, key: str) -> None:
    _fails(config, schema, f"config key {path}:", key, "unknown key")


def test_bad_enum_names_index_and_allowed_values(schema: dict[str, Any]) -> None:
    _fails({"models": ["ae", "gan"]}, schema, "models[1]", "'gan'", "'ae'", "'vae'", "'beta_vae'")


@pytest.mark.parametrize(
    ("config", "needles"),
    [
        ({"device": "gpu"}, ("config key device:", "'gpu'", "'cuda'")),
        ({"datasets": ["digits", "cifar"]}, ("datasets[1]", "'cifar'", "mnist", "data.sources")),
        ({"model": {"architecture": "resnet"}}, ("model.architecture", "'resnet'", "'conv'")),
        ({"model": {"likelihood": {"lines": "poisson"}}}, ("model.likelihood.lines", "'poisson'", "'gaussian'")),
    ],
)
def test_other_bad_enums(schema: dict[str, Any], config: dict[str, Any], needles: tuple[str, ...]) -> None:
    _fails(config, schema, *needles)


@pytest.mark.parametrize(
    ("config", "needles"),
    [
        ({"latent_dims": ["two"]}, ("latent_dims[0]", "'two'", "integer")),
        ({"latent_dims": 2}, ("config key latent_dims:", "array")),
        ({"seed": "one"}, ("config key seed:", "integer")),  # "1" is coerced to 1 (command-line overrides)
        ({"seed": True}, ("config key seed:", "integer")),
        ({"train": {"learning_rate": "fast"}}, ("train.learning_rate", "number")),
        ({"model": {"hidden": [64, 1.5]}}, ("model.hidden[1]", "integer")),
        ({"train": []}, ("config key train:", "object")),
    ],
)
def test_wrong_type(schema: dict[str, Any], config: dict[str, Any], needles: tuple[str, ...]) -> None:
    _fails(config, schema, *needles)


@pytest.mark.parametrize(
    ("config", "path"),
    [
        ({"data": {"test_fraction": 1.5}}, "data.test_fraction"),
        ({"data": {"test_fraction": 0}}, "data.test_fraction"),
        ({"data": {"test_fraction": 1}}, "data.test_fraction"),
        ({"latent_dims": [0]}, "latent_dims[0]"),
        ({"latent_dims": [2, 4097]}, "latent_dims[1]"),
        ({"seed": -1}, "seed"),
        ({"threads": 0}, "threads"),
        ({"data": {"lines": {"size": 4}}}, "data.lines.size"),
        ({"model": {"channels": [8]}}, "model.channels"),
        ({"model": {"beta": 0}}, "model.beta"),
        ({"train": {"epochs": {"lines": 0}}}, "train.epochs.lines"),
        ({"figures": {"scatter_max_points": 9}}, "figures.scatter_max_points"),
        ({"datasets": []}, "datasets"),
        ({"paths": {"lerp": {"steps": 1}}}, "paths.lerp.steps"),
        ({"paths": {"slerp": {"steps": 1001}}}, "paths.slerp.steps"),
        ({"paths": {"geodesic": {"steps": 2}}}, "paths.geodesic.steps"),
        ({"paths": {"geodesic": {"learning_rate": 0.05}}}, "paths.geodesic"),
        ({"paths": {"geodesic": {"nodes": [11, 2]}}}, "paths.geodesic.nodes[1]"),
        ({"paths": {"geodesic": {"nodes": [21, 11]}}}, "paths.geodesic.nodes"),
        ({"paths": {"geodesic": {"euclidean_weight": -0.1}}}, "paths.geodesic.euclidean_weight"),
        ({"paths": {"geodesic": {"substeps": 0}}}, "paths.geodesic.substeps"),
        ({"paths": {"geodesic": {"tolerance": -1e-5}}}, "paths.geodesic.tolerance"),
        ({"paths": {"pairs": {"n": 0}}}, "paths.pairs.n"),
        ({"paths": {"prior_pairs": {"variants": []}}}, "paths.prior_pairs.variants"),
        ({"paths": {"traverse_axis": {"range": 0}}}, "paths.traverse_axis.range"),
        ({"paths": {"traverse_axis": {"dims": [0, -1]}}}, "paths.traverse_axis.dims[1]"),
        ({"paths": {"traverse_axis": {"dims": [0, 2]}}}, "paths.traverse_axis.dims"),
        ({"paths": {"attribute": {"alpha": [0.0]}}}, "paths.attribute.alpha"),
        ({"paths": {"attribute": {"class_pairs": [[7, 1], [8]]}}}, "paths.attribute.class_pairs[1]"),
        ({"paths": {"grid": {"n": 1}}}, "paths.grid.n"),
        ({"paths": {"sphere_spiral": {"radius": 0}}}, "paths.sphere_spiral.radius"),
        ({"paths": {"sphere_spiral": {"loops": 0}}}, "paths.sphere_spiral.loops"),
        ({"decode": {"batch_size": 0}}, "decode.batch_size"),
    ],
)
def test_out_of_range(schema: dict[str, Any], config: dict[str, Any], path: str) -> None:
    _fails(config, schema, f"config key {path}:")


def test_test_fraction_message_names_value(schema: dict[str, Any]) -> None:
    _fails({"data": {"test_fraction": 1.5}}, schema, "config key data.test_fraction:", "1.5")


@pytest.mark.parametrize("config", [{"latent_dims": [2, 2]}, {"latent_dims": [2, 16, 2]}, {"models": ["ae", "ae"]}])
def test_duplicates(schema: dict[str, Any], config: dict[str, Any]) -> None:
    key = next(iter(config))
    _fails(config, schema, f"config key {key}:", "non-unique")


def test_mnist_without_source(schema: dict[str, Any]) -> None:
    _fails({"datasets": ["digits", "mnist"]}, schema, "data.mnist.dir", "data.mnist.base_url", "'mnist'")


def test_mnist_base_url_file_without_sha(schema: dict[str, Any]) -> None:
    config = {
        "datasets": ["mnist"],
        "data": {"mnist": {"base_url": "https://x/", "files": ["t10k-images-idx3-ubyte.gz", "extra.gz"]}},
    }
    message = _fails(config, schema, "data.mnist.sha256", "extra.gz")
    assert "t10k-images-idx3-ubyte.gz" not in message


def test_mnist_sha_must_be_hex(schema: dict[str, Any]) -> None:
    _fails({"data": {"mnist": {"sha256": {"a.gz": "XYZ"}}}}, schema, "data.mnist.sha256.a.gz")


def test_conv_with_indivisible_size(schema: dict[str, Any]) -> None:
    config = {"datasets": ["digits", "lines"], "model": {"architecture": "conv"}, "data": {"lines": {"size": 30}}}
    _fails(config, schema, "model.architecture", "'lines'", "30", "divisible by 4")


def test_per_dataset_architecture_overrides_and_is_checked(schema: dict[str, Any]) -> None:
    """views trains conv while the others keep model.architecture; its shape check names the per-dataset key."""
    from latentwalk.core.config import architecture_of

    config = validate_config({"datasets": ["digits", "views"]}, schema)
    assert (architecture_of(config, "digits"), architecture_of(config, "views")) == ("mlp", "conv")
    config = validate_config({"model": {"architecture": "conv", "architecture_per_dataset": {"views": "mlp"}}}, schema)
    assert (architecture_of(config, "lines"), architecture_of(config, "views")) == ("conv", "mlp")
    _fails({"datasets": ["views"], "data": {"views": {"size": 18}}}, schema, "model.architecture_per_dataset.views",
           "'views' has 18", "divisible by 4")
    _fails({"model": {"architecture_per_dataset": {"views": "resnet"}}}, schema, "model.architecture_per_dataset.views")


def test_acai_conv_shapes_are_checked_before_any_job(schema: dict[str, Any]) -> None:
    """The default latent dims (2, 16) do not fill a 2 x 2 latent map with whole channels; digits' 8 px do."""
    _fails({"model": {"architecture": "acai_conv"}}, schema, "model.architecture", "multiples of model.latent_width^2 = 4",
           "got 2")
    _fails({"datasets": ["lines"], "latent_dims": [16], "model": {"architecture": "acai_conv", "latent_width": 3}}, schema,
           "latent_width (3)", "'lines' has 32")
    _fails({"acai_benchmark": {"architecture": "acai_conv", "latent_dim": 30}}, schema, "acai_benchmark.architecture", "got 30")
    ok = validate_config({"latent_dims": [4, 16], "model": {"architecture": "acai_conv"}}, schema)
    assert ok["model"]["depth"] == 16 and ok["model"]["latent_width"] == 2


def test_the_line_benchmark_budget_is_a_count_or_paper(schema: dict[str, Any]) -> None:
    assert validate_config({"acai_benchmark": {"samples": "paper"}}, schema)["acai_benchmark"]["samples"] == "paper"
    assert validate_config({"acai_benchmark": {"samples": 640}}, schema)["acai_benchmark"]["samples"] == 640
    _fails({"acai_benchmark": {"samples": "papers"}}, schema, "acai_benchmark.samples")
    _fails({"acai_benchmark": {"samples": 0}}, schema, "acai_benchmark.samples")
    _fails({"acai_benchmark": {"samples": 32}}, schema, "acai_benchmark.samples: 32 is less than one batch")
    _fails({"acai_benchmark": {"models": ["beta_vae"]}}, schema, "acai_benchmark.models[0]")


def test_first_error_is_the_shallowest(schema: dict[str, Any]) -> None:
    message = _fails({"models": ["gan"], "bogus": 1}, schema)
    assert message.startswith("config key <top level>:")


# --------------------------------------------------------------------------- runs


def test_iter_runs_order_and_names(schema: dict[str, Any]) -> None:
    config = validate_config({"datasets": ["lines", "digits"], "models": ["vae", "ae"], "latent_dims": [16, 2]}, schema)
    runs = list(iter_runs(config))
    assert [r.name for r in runs] == [
        "lines/vae-z16", "lines/vae-z2", "lines/ae-z16", "lines/ae-z2",
        "digits/vae-z16", "digits/vae-z2", "digits/ae-z16", "digits/ae-z2",
    ]
    assert runs == list(iter_runs(config))


def test_run_name_and_variational() -> None:
    assert Run("digits", "vae", 2).name == "digits/vae-z2"
    assert Run("mnist", "beta_vae-b4", 16).name == "mnist/beta_vae-b4-z16"
    assert Run("digits", "vae", 2).variational
    assert Run("digits", "beta_vae-b0.5", 2).variational
    assert not Run("digits", "ae", 2).variational
    assert (Run("digits", "beta_vae-b0.5", 2).kind, Run("digits", "beta_vae-b0.5", 2).kl_weight) == ("beta_vae", 0.5)
    assert Run.parse("lines/beta_vae-b1e-05-z3") == Run("lines", "beta_vae-b1e-05", 3)


@pytest.mark.parametrize("name", ["beta_vae", "vae-b2", "ae-b0", "beta_vae-b", "beta_vae-b04", "beta_vae-b4.0", "my-net", "2net"])
def test_model_names_are_canonical(name: str) -> None:
    """A beta-VAE's name carries its KL weight in one spelling only, and fixed-weight kinds carry none."""
    with pytest.raises(ValueError, match="model name"):
        Run("digits", name, 2)


@settings(max_examples=200, deadline=None)
@given(beta=st.floats(min_value=1e-12, max_value=1e12, allow_nan=False, allow_infinity=False))
def test_beta_names_round_trip(beta: float) -> None:
    """Every positive KL weight has a name that matches the wildcard constraint and reads back exactly."""
    import re

    from latentwalk.core.registry import WILDCARD_CONSTRAINTS, model_name, parse_model

    name = model_name("beta_vae", beta)
    assert parse_model(name) == ("beta_vae", beta)
    assert re.fullmatch(WILDCARD_CONSTRAINTS["model"], name)


@settings(max_examples=40, deadline=None)
@given(
    datasets=st.lists(st.sampled_from(["digits", "lines"]), min_size=1, unique=True),
    models=st.lists(st.sampled_from(["ae", "vae", "beta_vae"]), min_size=1, unique=True),
    dims=st.lists(st.integers(1, 4096), min_size=1, max_size=5, unique=True),
)
def test_iter_runs_is_the_product(datasets: list[str], models: list[str], dims: list[int]) -> None:
    schema = load_schema(SCHEMA_PATH)
    config = validate_config({"datasets": datasets, "models": models, "latent_dims": dims,
                              "model": {"beta": [4, 0.5]}}, schema)
    runs = list(iter_runs(config))
    names = [m for kind in models for m in (["beta_vae-b4", "beta_vae-b0.5"] if kind == "beta_vae" else [kind])]
    assert [(r.dataset, r.model, r.dim) for r in runs] == list(itertools.product(datasets, names, dims))
    assert len({r.name for r in runs}) == len(runs)
    assert all(r.name == f"{r.dataset}/{r.model}-z{r.dim}" for r in runs)
    assert all(isinstance(r.dim, int) for r in runs)


def test_key_path_rendering() -> None:
    assert key_path([]) == "<top level>"
    assert key_path(["data", "lines", "n"]) == "data.lines.n"
    assert key_path(["models", 1]) == "models[1]"
    assert key_path(["a", 0, "b", 2]) == "a[0].b[2]"


# --------------------------------------------------------------------------- paths section


@pytest.mark.parametrize(
    ("config", "needles"),
    [
        ({"paths": {"methods": ["lerp", "wobble"]}}, ("config key paths.methods[1]:", "'wobble'", "'lerp'", "'geodesic'")),
        ({"paths": {"slerp": {"normalize": "circle"}}}, ("config key paths.slerp.normalize:", "'circle'", "'none'", "'radius'", "'sqrt_d'")),
        ({"paths": {"pairs": {"mode": "any"}}}, ("config key paths.pairs.mode:", "'any'", "'random'", "'same_class'", "'cross_class'")),
        ({"paths": {"grid": {"coordinates": "polar"}}}, ("config key paths.grid.coordinates:", "'polar'", "'auto'", "'latent'", "'pca'")),
        ({"paths": {"traverse_axis": {"start": "centre"}}}, ("config key paths.traverse_axis.start:", "'centre'", "'origin'")),
        ({"paths": {"prior_pairs": {"variants": ["lerp", "geodesic"]}}}, ("config key paths.prior_pairs.variants[1]:", "'geodesic'")),
        ({"paths": {"methods": ["lerp", "lerp"]}}, ("config key paths.methods:", "non-unique")),
        ({"paths": {"methods": "lerp"}}, ("config key paths.methods:", "array")),
        ({"paths": {"methods": []}}, ("config key paths.methods:", "non-empty")),
        ({"paths": {"methods": ["spiral"]}}, ("config key paths.methods:", "no configured method applies to run digits/ae-z16",
                                             "spiral: needs d = 2")),
        ({"paths": {"methods": ["attribute"]}, "datasets": ["lines"]},
         ("config key paths.methods:", "lines/ae-z2", "attribute: needs class labels; lines is labelled by angle")),
        ({"paths": {"attribute": {"class_pairs": [[7, 1], [12, 1]]}}},
         ("config key paths.attribute.class_pairs[1]:", "class 12", "'digits'", "labels 0..9")),
        ({"paths": {"lerp": {"steps": 2.5}}}, ("config key paths.lerp.steps:", "integer")),
        ({"paths": {"sphere_spiral": {"radius": "sqrt_d"}}}, ("config key paths.sphere_spiral.radius:", "'sqrt_d'")),
        ({"decode": {"batch_size": "big"}}, ("config key decode.batch_size:", "integer")),
        ({"paths": {"methods": ["lerp", "geodesic_variance"], "geodesic": {"metric": "variance"}}},
         ("config key paths.methods:", "geodesic_variance", "paths.geodesic.metric is variance")),
    ],
)
def test_bad_paths_values(schema: dict[str, Any], config: dict[str, Any], needles: tuple[str, ...]) -> None:
    _fails(config, schema, *needles)


@pytest.mark.parametrize(
    "config",
    [
        {"paths": {"methods": ["spiral", "lerp"]}},
        {"paths": {"methods": ["geodesic", "lerp"], "pairs": {"n": 1000, "mode": "random"}}},
        {"paths": {"traverse_axis": {"dims": [0, 1], "start": "example"}}},
        {"paths": {"sphere_spiral": {"radius": 2.5, "loops": 0.5}}},
        {"paths": {"slerp": {"normalize": "sqrt_d"}, "grid": {"coordinates": "latent"}}},
        {"decode": {"batch_size": 1}},
    ],
)
def test_valid_paths_configs(schema: dict[str, Any], config: dict[str, Any]) -> None:
    filled = validate_config(copy.deepcopy(config), schema)
    for section, values in config.items():
        for key, value in values.items():
            if isinstance(value, dict):
                for sub, subvalue in value.items():
                    assert filled[section][key][sub] == subvalue
            else:
                assert filled[section][key] == value


def test_partial_paths_section_fills_the_rest(schema: dict[str, Any]) -> None:
    config = validate_config({"paths": {"slerp": {"normalize": "radius"}, "methods": ["slerp"]}}, schema)
    assert config["paths"]["slerp"] == {"steps": 11, "normalize": "radius"}
    assert config["paths"]["methods"] == ["slerp"]
    assert config["paths"]["pairs"] == DEFAULTS["paths"]["pairs"]
    assert config["decode"] == {"batch_size": 1024}


# --------------------------------------------------------------------------- applicable_methods


@pytest.fixture(scope="module")
def paths_cfg(schema: dict[str, Any]) -> dict[str, Any]:
    return validate_config({}, schema)["paths"]


def test_applicable_methods_hand_cases(paths_cfg: dict[str, Any]) -> None:
    assert applicable_methods(Run("digits", "vae", 2), paths_cfg) == ALL_METHODS
    assert applicable_methods(Run("mnist", "beta_vae-b4", 2), paths_cfg) == ALL_METHODS
    assert applicable_methods(Run("digits", "vae", 16), paths_cfg) == [
        "lerp", "slerp", "lerp_matched", "prior_pairs", "traverse_axis", "traverse_pca", "attribute",
        "grid", "sphere_spiral", "geodesic",
    ]
    assert applicable_methods(Run("lines", "ae", 2), paths_cfg) == [
        "lerp", "slerp", "lerp_matched", "traverse_axis", "traverse_pca", "grid", "spiral", "geodesic",
    ]
    assert applicable_methods(Run("lines", "ae", 16), paths_cfg) == [
        "lerp", "slerp", "lerp_matched", "traverse_axis", "traverse_pca", "grid", "geodesic",
    ]


def test_applicable_methods_spiral_only_2d(paths_cfg: dict[str, Any]) -> None:
    for dataset, model, dim in itertools.product(["digits", "lines", "mnist"], ["ae", "vae", "beta_vae-b4"], [1, 2, 3, 16, 512]):
        assert ("spiral" in applicable_methods(Run(dataset, model, dim), paths_cfg)) == (dim == 2)


def test_applicable_methods_attribute_only_class_datasets(paths_cfg: dict[str, Any]) -> None:
    assert CLASS_DATASETS == ("digits", "mnist")
    for dataset, model, dim in itertools.product(["digits", "lines", "mnist"], ["ae", "vae", "beta_vae-b4"], [1, 2, 16]):
        assert ("attribute" in applicable_methods(Run(dataset, model, dim), paths_cfg)) == (dataset in ("digits", "mnist"))


def test_applicable_methods_prior_walks_only_variational(paths_cfg: dict[str, Any]) -> None:
    for dataset, model, dim in itertools.product(["digits", "lines"], ["ae", "vae", "beta_vae-b4"], [2, 3, 16]):
        methods = applicable_methods(Run(dataset, model, dim), paths_cfg)
        assert ("prior_pairs" in methods) == (model != "ae")
        assert ("sphere_spiral" in methods) == (model != "ae")


def test_applicable_methods_grid(paths_cfg: dict[str, Any]) -> None:
    for coordinates in ("auto", "latent", "pca"):
        cfg = copy.deepcopy(paths_cfg)
        cfg["grid"]["coordinates"] = coordinates
        for model, dim in itertools.product(["ae", "vae"], [1, 2, 3, 16]):
            has_grid = "grid" in applicable_methods(Run("digits", model, dim), cfg)
            expected = dim == 2 if coordinates == "latent" else dim >= 2
            assert has_grid == expected, (coordinates, model, dim)


def test_applicable_methods_1d(paths_cfg: dict[str, Any]) -> None:
    """d = 1 has no directions to slerp between, no sphere to spiral on and no plane for a grid."""
    methods = applicable_methods(Run("digits", "ae", 1), paths_cfg)
    assert methods == ["lerp", "lerp_matched", "traverse_axis", "traverse_pca", "attribute", "geodesic"]
    vae = applicable_methods(Run("digits", "vae", 1), paths_cfg)
    assert "slerp" not in vae and "sphere_spiral" not in vae and "grid" not in vae


def test_prior_pairs_for_1d_vae_does_not_fail(paths_cfg: dict[str, Any]) -> None:
    import zlib

    import numpy as np
    from latentwalk.walks.interpolate import prior_pairs

    settings_ = paths_cfg["prior_pairs"]
    if "prior_pairs" in applicable_methods(Run("digits", "vae", 1), paths_cfg):
        # the rng generate_paths uses for the default seed
        rng = np.random.default_rng([DEFAULTS["seed"], zlib.crc32(b"prior_pairs")])
        prior_pairs(settings_["n"], 1, settings_["steps"], rng, settings_["variants"])


@settings(max_examples=60, deadline=None)
@given(
    methods=st.permutations(DEFAULTS["paths"]["methods"]).flatmap(lambda p: st.integers(1, len(p)).map(lambda k: p[:k])),
    dataset=st.sampled_from(["digits", "lines", "mnist"]),
    model=st.sampled_from(["ae", "vae", "beta_vae-b4"]),
    dim=st.integers(1, 64),
    coordinates=st.sampled_from(["auto", "latent", "pca"]),
)
def test_applicable_methods_filter_keeps_config_order(
    methods: list[str], dataset: str, model: str, dim: int, coordinates: str
) -> None:
    schema = load_schema(SCHEMA_PATH)
    cfg = validate_config({"paths": {"grid": {"coordinates": coordinates}}}, schema)["paths"]
    cfg["methods"] = list(methods)
    out = applicable_methods(Run(dataset, model, dim), cfg)

    def ok(method: str) -> bool:
        if method == "spiral":
            return dim == 2
        if method == "attribute":
            return dataset in ("digits", "mnist")
        if method in ("prior_pairs", "sphere_spiral") and model == "ae":
            return False
        if method in ("slerp", "grid", "sphere_spiral", "prior_pairs") and dim < 2:
            return False
        if method == "grid" and coordinates == "latent":
            return dim == 2
        return True

    assert out == [m for m in methods if ok(m)]


@pytest.mark.parametrize("path", sorted((CONFIG_PATH.parent / "config").rglob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_file_validates(schema: dict[str, Any], path: Path, tmp_path: Path) -> None:
    """The sweeps, the benchmark config and the example merge over config.yaml; each must validate on its own too
    (the example's sources pointed at stand-ins of their kind: a folder with two class subfolders, an .npz; its model
    files at empty stand-ins, which only import_model opens)."""
    raw = yaml.safe_load(path.read_text())
    for source in (raw.get("data") or {}).get("sources", {}).values():
        stand_in = tmp_path / Path(source["path"]).name
        if stand_in.suffix == ".npz":
            np.savez(stand_in, images=np.zeros((4, 8, 8), np.uint8))
        else:
            for name in ("a", "b"):
                (stand_in / name).mkdir(parents=True)
        source["path"] = str(stand_in)
    for model in (raw.get("external_models") or {}).values():
        for part in ("encoder", "decoder"):
            model[part] = str(tmp_path / Path(model[part]).name)
            Path(model[part]).touch()
    config = validate_config(raw, schema)
    if path.name == "acai_lines.yaml":
        assert config["acai_benchmark"]["enabled"] and config["data"]["lines"]["renderer"] == "acai"
        bench = config["acai_benchmark"]  # the paper's protocol, the budget reduced
        assert (bench["architecture"], bench["learning_rate"], bench["batch_size"], bench["eval_every"], bench["median_of"]) \
            == ("acai_conv", 1e-4, 64, 65536, 20) and bench["samples"] == 32768
        assert config["paths"]["pairs"] == {"n": 16, "mode": "random"} and config["paths"]["lerp"]["steps"] == 16
    if path.name == "geodesics.yaml":  # the default methods and the variance-metric geodesic
        assert config["paths"]["methods"] == [*validate_config({}, schema)["paths"]["methods"], "geodesic_variance"]


@pytest.mark.parametrize(
    ("config", "needles"),
    [
        ({"train": {"epochs": {"foo": 1}}}, ("config key train.epochs.foo:", "no dataset of that name")),
        ({"model": {"likelihood": {"cifar": "gaussian"}}}, ("config key model.likelihood.cifar:",)),
        ({"model": {"architecture_per_dataset": {"cifar": "conv"}}}, ("model.architecture_per_dataset.cifar",)),
        ({"data": {"sources": {"digits": {"path": "x"}}}}, ("config key data.sources.digits:", "built-in")),
        ({"data": {"sources": {"mine": {"size": 8}}}}, ("data.sources.mine", "'path' is a required property")),
        ({"data": {"sources": {"Mine": {"path": "x"}}}}, ("data.sources", "'Mine'")),
        ({"data": {"sources": {"mine": {"path": "x", "channels": 2}}}}, ("data.sources.mine.channels", "2")),
    ],
)
def test_sources_and_per_dataset_keys_name_what_is_wrong(schema: dict[str, Any], config: dict[str, Any],
                                                         needles: tuple[str, ...]) -> None:
    _fails(config, schema, *needles)


def test_a_source_is_a_dataset_with_defaults(schema: dict[str, Any], tmp_path: Path) -> None:
    """A source listed under datasets takes the schema's size and channels and the source defaults per dataset;
    a folder with class subfolders is class-labelled (scored by a classifier, attribute walks apply), a flat one
    is not; a path that does not exist stops the config."""
    from latentwalk.core.config import SOURCE_DEFAULTS, datasets_of, iter_runs

    (tmp_path / "flat").mkdir()
    (tmp_path / "classes" / "a").mkdir(parents=True)
    sources = {"shapes": {"path": str(tmp_path / "classes")}, "plain": {"path": str(tmp_path / "flat"), "size": 16}}
    config = validate_config({"datasets": ["digits", "shapes", "plain"], "data": {"sources": sources},
                              "train": {"epochs": {"digits": 3}}}, schema)
    assert config["data"]["sources"]["shapes"] == {"path": str(tmp_path / "classes"), "size": 32, "channels": 3}
    assert config["train"]["epochs"]["shapes"] == SOURCE_DEFAULTS["epochs"]
    assert config["model"]["likelihood"]["plain"] == SOURCE_DEFAULTS["likelihood"]
    assert config["train"]["epochs"]["digits"] == 3
    found = datasets_of(config)
    assert (found["shapes"].label_kind, found["shapes"].scorer) == ("class", "classifier")
    assert (found["plain"].label_kind, found["plain"].scorer, found["plain"].side) == ("none", "realism", 16)
    runs = {run.name: run for run in iter_runs(config)}
    assert runs["plain/vae-z2"].label_kind == "none" and runs["digits/vae-z2"].label_kind == "class"
    _fails({"datasets": ["gone"], "data": {"sources": {"gone": {"path": str(tmp_path / "nothing")}}}}, schema,
           "config key data.sources.gone.path:", "does not exist")


@pytest.mark.parametrize(("text", "needles"), [
    ("seed: 1\nseed: 2\n", ("line 2: key 'seed' appears twice", "first on line 1")),
    ("train:\n  epochs: {digits: 2, digits: 3}\n", ("line 2: key 'digits' appears twice",)),
    ("", ("empty", "mapping of keys")),
    ("# only a comment\n\n", ("empty",)),
    ("- seed\n- 2\n", ("holds a list, not a mapping",)),
    ("seed: [1\n", ("not valid YAML",)),
])
def test_every_yaml_the_pipeline_reads_is_checked_by_one_loader(tmp_path: Path, text: str, needles: tuple[str, ...]) -> None:
    from latentwalk.core.config import load_yaml

    path = tmp_path / "my config.yaml"
    path.write_text(text)
    with pytest.raises(LatentwalkError) as excinfo:
        load_yaml(path)
    one_line(excinfo, str(path), *needles)
    with pytest.raises(LatentwalkError) as excinfo:
        load_yaml(tmp_path / "missing.yaml")
    one_line(excinfo, "missing.yaml", "cannot be read", "no such file")
    assert load_yaml(CONFIG_PATH)["seed"] == DEFAULTS["seed"]  # merge keys and the rest still load


def test_configured_paths_are_checked_for_kind_and_links_before_any_job(schema: dict[str, Any], tmp_path: Path) -> None:
    from latentwalk.data.idx import MNIST_FILES

    idx = tmp_path / "idx"
    idx.mkdir()
    (idx / "a-file").write_text("x")
    mnist = {"datasets": ["mnist"], "data": {"mnist": {"dir": str(idx / "a-file")}}}
    _fails(mnist, schema, "config key data.mnist.dir:", "a-file is a file; a folder is expected here")
    mnist["data"]["mnist"]["dir"] = str(idx)
    _fails(mnist, schema, "config key data.mnist.dir:", "holds no MNIST IDX files")
    (idx / f"{MNIST_FILES['test_images']}.gz").symlink_to(idx / "gone.gz")
    _fails(mnist, schema, "config key data.mnist.dir:", f"{MNIST_FILES['test_images']}.gz is a broken link")
    (idx / f"{MNIST_FILES['test_images']}.gz").unlink()
    loop = idx / f"{MNIST_FILES['test_labels']}.gz"
    loop.symlink_to(loop)
    _fails(mnist, schema, f"{MNIST_FILES['test_labels']}.gz is a broken link", "loops")
    source = {"datasets": ["mine"], "data": {"sources": {"mine": {"path": str(idx / "a-file")}}}}
    _fails(source, schema, "config key data.sources.mine.path:", "is a file; a folder is expected")

