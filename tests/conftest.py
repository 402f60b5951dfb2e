"""Session fixtures shared by the test modules: the tiny workflow run, and a SLURM controller for the session."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from _workflow import make_tiny_run

#: Starts (or stops) a single-node SLURM: slurmctld, slurmd and munge (installed with apt-get where missing).
SLURM_SCRIPT = Path(__file__).resolve().parent / "cluster" / "slurm.sh"


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A completed tiny run (with report, manifest and job records) in a fresh copy of the repository."""
    return make_tiny_run(tmp_path_factory.mktemp("repo"))


def why_no_slurm() -> str | None:
    """Why this machine cannot run a SLURM for the tests (None: it can)."""
    if os.geteuid() != 0:
        return "starting slurmctld/slurmd needs root"
    if shutil.which("sbatch") is None and shutil.which("apt-get") is None:
        return "SLURM is not installed and apt-get is not available to install it (Debian packages slurmctld slurmd)"
    return None


@pytest.fixture(scope="session", autouse=True)
def slurm(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path | str]:
    """A running single-node SLURM for the whole session, where the cluster tests are selected or its client is
    installed; else the reason there is none (a string).

    Once the SLURM client is installed, Snakemake's SLURM plugin asks the controller for its settings
    (``scontrol show config``) whenever Snakemake starts, and waits ~9 s when none answers: with a controller up,
    no Snakemake start of any test waits for one."""
    cluster_tests = any(item.path.name == "test_cluster.py" for item in request.session.items)
    if not (cluster_tests or shutil.which("sinfo")):
        yield "the cluster tests are not selected and the SLURM client is not installed"
        return
    reason = why_no_slurm()
    if reason:
        yield reason
        return
    state = tmp_path_factory.mktemp("slurm")
    started = subprocess.run(["bash", str(SLURM_SCRIPT), "start", str(state)], capture_output=True, text=True,
                             timeout=900)
    if started.returncode != 0:
        yield f"could not start SLURM here: {(started.stderr or started.stdout).strip().splitlines()[-1:]}"
        return
    yield state
    subprocess.run(["bash", str(SLURM_SCRIPT), "stop", str(state)], capture_output=True, timeout=60)
