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


def selftest_results(page: Path) -> tuple[float, int, dict[str, str]]:
    """The page's ``#selftest`` (max_abs_diff, frames) and ``#selftest-ui`` (interaction: value) in headless Chromium
    (skips when Chromium is not installed)."""
    from latentwalk.report.explorer import find_browser, page_selftest

    if find_browser() is None:
        pytest.skip("chromium is not installed (Debian package 'chromium'; .ci/run installs it)")
    result = page_selftest(page)
    return result.max_abs_diff, result.frames, {**result.ui, "decode_ms": str(result.decode_ms)}
