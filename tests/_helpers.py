"""Shared test helpers (importable because pytest puts tests/ on sys.path)."""

from __future__ import annotations

from pathlib import Path

import pytest

#: The real MNIST 10k test files, beside the repository; tests using them skip when absent.
MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
needs_mnist = pytest.mark.skipif(
    not (MNIST_DIR / "t10k-images-idx3-ubyte.gz").is_file(),
    reason=f"real MNIST test files not found at {MNIST_DIR}",
)


def one_line(excinfo: pytest.ExceptionInfo[BaseException], *needles: str) -> None:
    """The error message is a single line containing every needle."""
    message = str(excinfo.value)
    assert "\n" not in message, message
    for needle in needles:
        assert needle in message, (needle, message)
