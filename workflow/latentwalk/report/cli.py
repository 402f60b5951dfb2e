"""The ``latentwalk`` command: ``verify`` (results against the manifest) and ``check-explorers`` (the explorer
pages' self-tests in headless Chromium)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from latentwalk.core.io import LatentwalkError
from latentwalk.report.audit import read_manifest, verify
from latentwalk.report.explorer import TOLERANCE, UI_CHECKS, page_selftest

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """``latentwalk verify [RESULTS]`` and ``latentwalk check-explorers [RESULTS]``: one line per problem (per page)
    and a summary; exit 1 on any problem, 2 when the check cannot run."""
    parser = argparse.ArgumentParser(prog="latentwalk", description="latentwalk command-line tools")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="check results/ against results/manifest.tsv and the job records")
    check.add_argument("results", nargs="?", default="results", help="the results folder (default: results)")
    check.add_argument("--manifest", default=None, help="the manifest (default: RESULTS/manifest.tsv)")
    pages = commands.add_parser("check-explorers", help="run every explorer page's self-tests in headless Chromium")
    pages.add_argument("results", nargs="?", default="results", help="the results folder (default: results)")
    pages.add_argument("--browser", default=None, help="the Chromium executable (default: chromium on PATH)")
    args = parser.parse_args(argv)
    if args.command == "check-explorers":
        return _check_explorers(Path(args.results), args.browser)
    try:
        problems = verify(args.results, args.manifest)
    except LatentwalkError as exc:
        print(f"latentwalk verify: {exc}", file=sys.stderr)
        return 2
    rows = len(read_manifest(Path(args.manifest or Path(args.results, "manifest.tsv"))))
    for problem in problems:
        print(problem)
    print(f"verify: {rows} artifacts in the manifest, {len(problems)} problem(s)")
    return 1 if problems else 0


def _check_explorers(results: Path, browser: str | None) -> int:
    """Print each explorer page's self-test (JavaScript decoder vs torch, interactions) and a summary line."""
    found = sorted(results.glob("explorer/**/*.html"))
    if not found:
        print(f"latentwalk check-explorers: no explorer pages under {results / 'explorer'}", file=sys.stderr)
        return 2
    failed = 0
    for page in found:
        try:
            result = page_selftest(page, browser)
        except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
            print(f"latentwalk check-explorers: {exc}", file=sys.stderr)
            return 2
        failed += not result.ok
        ui = " ".join(f"{k}={result.ui.get(k, '?')}" for k in UI_CHECKS)
        print(f"{'ok  ' if result.ok else 'FAIL'} {page.relative_to(results)}: {page.stat().st_size / 1e6:.2f} MB, "
              f"max_abs_diff={result.max_abs_diff:.2e} over {result.frames} frames, {result.decode_ms:.2f} ms/frame; {ui}")
    print(f"check-explorers: {len(found)} page(s), {failed} failed (max_abs_diff <= {TOLERANCE:g} and every interaction)")
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
