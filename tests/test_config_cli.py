"""Command-line overrides: Snakemake hands nested --config values over as strings."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from latentwalk.core.config import load_schema, validate_config
from latentwalk.core.io import LatentwalkError

SCHEMA = Path(__file__).resolve().parents[1] / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="module")
def schema() -> dict:
    return load_schema(SCHEMA)


def base_loader(text: str):
    """What `snakemake --config key=VALUE` produces for a YAML flow value."""
    return yaml.load(text, Loader=yaml.loader.BaseLoader)


def test_strings_become_numbers_booleans_and_null_by_schema(schema: dict) -> None:
    config = {
        "latent_dims": base_loader("[2, 500]"),
        "train": base_loader("{epochs: {digits: 3}, learning_rate: 2e-3}"),
        "data": base_loader("{mnist: {dir: ../shared/data/mnist}, test_fraction: 0.25}"),
        "paths": base_loader("{sphere_spiral: {radius: null, loops: 2.5}, traverse_axis: {dims: [0, 1]}}"),
    }
    validate_config(config, schema)
    assert config["latent_dims"] == [2, 500]
    assert config["train"]["epochs"]["digits"] == 3 and config["train"]["learning_rate"] == 0.002
    assert config["data"]["mnist"]["dir"] == "../shared/data/mnist"
    assert config["data"]["test_fraction"] == 0.25
    assert config["paths"]["sphere_spiral"] == {"radius": None, "loops": 2.5, "steps": 240}
    assert config["paths"]["traverse_axis"]["dims"] == [0, 1]


def test_strings_that_do_not_parse_are_still_reported(schema: dict) -> None:
    with pytest.raises(LatentwalkError, match=r"latent_dims\[1\]: 'many' has the wrong type"):
        validate_config({"latent_dims": base_loader("[2, many]")}, schema)


def test_enum_strings_stay_strings(schema: dict) -> None:
    config = {"paths": base_loader("{slerp: {normalize: none}}"), "device": "cpu"}
    validate_config(config, schema)
    assert config["paths"]["slerp"]["normalize"] == "none"
