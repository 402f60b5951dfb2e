"""Session fixtures shared by the workflow test modules."""

from __future__ import annotations

from pathlib import Path

import pytest
from _workflow import make_tiny_run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A completed tiny run (with report, manifest and job records) in a fresh copy of the repository."""
    return make_tiny_run(tmp_path_factory.mktemp("repo"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the SLURM tests last. Once the SLURM client is installed, Snakemake's SLURM plugin asks `scontrol` for
    the cluster's settings every time Snakemake starts, which waits ~9 s when no controller is up (after the
    cluster tests stop theirs): every other workflow test would pay that."""
    items.sort(key=lambda item: item.path.name == "test_cluster.py")
