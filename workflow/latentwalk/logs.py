"""Per-job logging: every message and warning of a rule script goes to its ``log:`` file."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["job_log", "Log", "quiet"]

#: A progress sink: stages call ``log(message)``; rule scripts pass the job log's writer.
Log = Callable[[str], None]


def quiet(_message: str) -> None:
    """A :data:`Log` that drops every message (the default outside Snakemake)."""


@contextlib.contextmanager
def job_log(path: str | os.PathLike[str]) -> Iterator[Callable[[str], None]]:
    """Open ``path`` for the job, route stdout/stderr into it and yield a ``log(message)`` function.

    Each message is timestamped and flushed at once, so ``tail -f`` shows live
    progress. An exception is written to the log (one line) and re-raised.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", buffering=1) as handle:

        def log(message: str) -> None:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")

        try:
            with contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
                yield log
        except BaseException as exc:
            log(f"ERROR {type(exc).__name__}: {exc}")
            raise
        finally:
            handle.flush()
            sys.stderr.flush()
