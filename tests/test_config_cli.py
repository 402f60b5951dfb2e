"""The command line: Snakemake hands nested --config values over as strings; `latentwalk run` checks the config
files Snakemake's command line reads before the workflow."""

from __future__ import annotations

import subprocess
import sys
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


def test_run_reads_the_config_files_snakemake_would(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from latentwalk.report.cli import config_files

    monkeypatch.chdir(tmp_path)
    assert config_files(["-n", "--configfile", "a.yaml", "b.yaml", "-j", "2", "all"]) == ["a.yaml", "b.yaml"]
    assert config_files(["--configfile=a.yaml", "c.yaml", "--configfiles", "d.yaml"]) == ["a.yaml", "d.yaml"]
    (tmp_path / "config.yaml").write_text("seed: 1\n")
    assert config_files(["target"]) == ["config.yaml"]


@pytest.mark.parametrize("content, needle", [
    (None, "missing.yaml: cannot be read (no such file)"),
    ("", "missing.yaml: empty; a config file is a mapping of keys"),
    ("# only a comment\n", "missing.yaml: empty;"),
    ("- a list\n", "missing.yaml: holds a list, not a mapping of keys"),
])
def test_run_refuses_a_configfile_snakemake_cannot_name_in_one_line(tmp_path: Path, content: str | None,
                                                                     needle: str) -> None:
    """`latentwalk run` checks what Snakemake's command line reads before the workflow (where a missing file ends in
    a traceback and an empty one in a message without its name); nothing of Snakemake starts."""
    if content is not None:
        (tmp_path / "missing.yaml").write_text(content)
    proc = subprocess.run([sys.executable, "-m", "latentwalk.report.cli", "run", "-n", "--configfile", "missing.yaml"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and out.strip().startswith(f"latentwalk run: invalid config: {needle}"), out
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out


def test_run_hands_everything_else_to_snakemake(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text("seed: 3\n")
    proc = subprocess.run([sys.executable, "-m", "latentwalk.report.cli", "run", "--version", "--configfile", "ok.yaml"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip().startswith("9."), proc.stdout + proc.stderr
