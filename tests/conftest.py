"""Session fixtures shared by the workflow test modules."""

from __future__ import annotations

from pathlib import Path

import pytest
from _workflow import make_tiny_run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A completed tiny run (with report, manifest and job records) in a fresh copy of the repository."""
    return make_tiny_run(tmp_path_factory.mktemp("repo"))
