"""Atomic writes, provenance, per-job logs and the import discipline of light stages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _helpers import one_line

from latentwalk.io import LatentwalkError, atomic_dir, atomic_path, method_files, provenance, save_npz, sha256_file, write_json
from latentwalk.logs import job_log


def test_atomic_path_renames_on_success(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.npz"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".npz" and tmp != target
        tmp.write_bytes(b"payload")
        assert not target.exists()
    assert target.read_bytes() == b"payload"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.npz"]


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(ValueError):
        with atomic_path(target) as tmp:
            tmp.write_text("half-written")
            raise ValueError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_write_json_and_npz_round_trip(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"b": np.float32(1.5), "a": np.arange(3), "p": tmp_path})
    text = (tmp_path / "a.json").read_text()
    assert json.loads(text) == {"a": [0, 1, 2], "b": 1.5, "p": str(tmp_path)}
    assert text.index('"a"') < text.index('"b"')  # sorted keys: stable diffs
    save_npz(tmp_path / "x.npz", images=np.ones((2, 3), np.float32))
    with np.load(tmp_path / "x.npz") as data:
        np.testing.assert_array_equal(data["images"], np.ones((2, 3)))


def test_provenance_records_inputs_and_versions(tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(b"abc")
    record = provenance(stage="s", config={"k": 1}, inputs=[source], seed=3)
    assert record["inputs"] == {str(source): "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}
    assert record["inputs"][str(source)] == sha256_file(source)
    assert record["seed"] == 3 and record["config"] == {"k": 1}
    assert {"python", "numpy", "latentwalk"} <= set(record["versions"])


def test_job_log_captures_messages_output_and_errors(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "job.log"
    with pytest.raises(LatentwalkError):
        with job_log(log_file) as log:
            log("hello")
            print("printed")
            raise LatentwalkError("data.npz: broken")
    text = log_file.read_text().splitlines()
    assert text[0].endswith(" hello")
    assert text[1] == "printed"
    assert text[2].endswith("ERROR LatentwalkError: data.npz: broken")


@pytest.mark.parametrize(
    "module",
    [
        "latentwalk.stages.data",
        "latentwalk.stages.train",
        "latentwalk.stages.encode",
        "latentwalk.stages.figures_run",
        "latentwalk.stages.figures_walks",
        "latentwalk.stages.figures_geometry",
        "latentwalk.stages.path_stats",
        "latentwalk.stages.geometry",
        "latentwalk.stages.classifier",
        "latentwalk.stages.summary",
        "latentwalk.stages.paths",
        "latentwalk.stages.decode",
        "latentwalk.datasets",
        "latentwalk.idx",
        "latentwalk.encoding",
        "latentwalk.paths",
        "latentwalk.plots",
        "latentwalk.figures_run",
        "latentwalk.figures_decoded",
        "latentwalk.figures_geometry",
        "latentwalk.figures_quality",
        "latentwalk.registry",
        "latentwalk.stats",
        "latentwalk.quality",
        "latentwalk.config",
    ],
)
def test_light_modules_do_not_import_torch(module: str) -> None:
    """Data preparation and figure jobs must not pay for a torch import."""
    code = f"import sys, {module}; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_atomic_dir_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "run" / "paths"
    with atomic_dir(target) as tmp:
        (tmp / "lerp.parquet").write_text("a")
        assert not target.exists()  # nothing visible until the body succeeds
    assert sorted(p.name for p in target.iterdir()) == ["lerp.parquet"]
    assert target.stat().st_mode & 0o777 == 0o777 & ~_umask()  # a normal directory, not mkdtemp's 0700
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "slerp.parquet").write_text("b")
            raise RuntimeError("job failed")
    assert sorted(p.name for p in target.iterdir()) == ["lerp.parquet"]  # the old directory is untouched
    assert [p.name for p in target.parent.iterdir()] == ["paths"]  # no temporary directory left behind
    with atomic_dir(target) as tmp:
        (tmp / "grid.parquet").write_text("c")
    assert sorted(p.name for p in target.iterdir()) == ["grid.parquet"]  # replaced whole


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_method_files_checks_the_directory_holds_exactly_the_methods(tmp_path: Path) -> None:
    for name in ("lerp.npz", "grid.npz"):
        (tmp_path / name).write_text("x")
    assert method_files(tmp_path, ["lerp", "grid"], ".npz") == [tmp_path / "lerp.npz", tmp_path / "grid.npz"]
    with pytest.raises(LatentwalkError) as excinfo:
        method_files(tmp_path, ["lerp"], ".npz")
    one_line(excinfo, str(tmp_path), "expected lerp.npz", "found grid.npz, lerp.npz")
    with pytest.raises(LatentwalkError) as excinfo:
        method_files(tmp_path / "missing", ["lerp"], ".npz")
    one_line(excinfo, "found nothing")
