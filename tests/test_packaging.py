"""Packaging: the wheel holds the whole package, and a workflow's jobs run that workflow's own package whatever else
is installed (the tests' environment has this checkout installed in editable mode)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from _workflow import REPO, snakemake, tiny_repo

PACKAGE = REPO / "workflow" / "latentwalk"


def test_the_wheel_holds_every_module_and_the_explorer_assets(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                           str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    (wheel,) = tmp_path.glob("latentwalk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    package = {f"latentwalk/{p.relative_to(PACKAGE).as_posix()}" for p in PACKAGE.rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert package and package <= names, sorted(package - names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "latentwalk = latentwalk.report.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


@pytest.mark.workflow
def test_jobs_run_the_package_of_their_own_workflow(tmp_path: Path) -> None:
    """A second copy of the workflow, run from an environment where this checkout is installed: its scheduler and
    its jobs both import the copy's own package (each says where it was loaded from), and the job record names it."""
    work = tiny_repo(tmp_path / "second")
    marker = "import sys as _sys\n_sys.stderr.write(f'LATENTWALK_PACKAGE {__file__}\\n')\n"
    init = work / "workflow" / "latentwalk" / "__init__.py"
    init.write_text(init.read_text() + marker)
    proc = snakemake(work, "results/data/digits.npz", "--configfile", "tiny.yaml")
    loaded = [line.split(" ", 1)[1] for line in (proc.stdout + proc.stderr).splitlines()
              if line.startswith("LATENTWALK_PACKAGE ")]
    assert len(loaded) >= 2, proc.stderr[-2000:]  # the scheduler and the job
    assert {Path(path).resolve() for path in loaded} == {init.resolve()}
    record = json.loads((work / "results/provenance/prepare_data/digits.json").read_text())
    assert record["package"] == "workflow/latentwalk"
