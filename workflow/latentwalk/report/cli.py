"""The ``latentwalk`` command: ``run`` (Snakemake, its config files checked first), ``verify`` (results against the
manifest and the job records) and ``check-explorers`` (the explorer pages' self-tests in headless Chromium)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from latentwalk.core.config import check_config_file
from latentwalk.core.io import LatentwalkError
from latentwalk.report.audit import read_manifest, verify
from latentwalk.report.explorer import TOLERANCE, UI_CHECKS, page_selftest

__all__ = ["main", "config_files"]


def config_files(args: Sequence[str]) -> list[str]:
    """The config files a Snakemake command line ``args`` reads: ``config.yaml`` where it exists, then every file
    after ``--configfile``/``--configfiles`` (up to the next option, as Snakemake parses them) or after ``=``."""
    files = ["config.yaml"] if os.path.exists("config.yaml") else []
    taking = False
    for arg in args:
        name, _, value = arg.partition("=")
        if name in ("--configfile", "--configfiles"):
            taking = not value
            files += [value] if value else []
        elif arg.startswith("-"):
            taking = False
        elif taking:
            files.append(arg)
    return files


def _run(args: Sequence[str]) -> int:
    """``latentwalk run ARGS``: ``snakemake ARGS`` once every config file it would read loads (one line naming the
    file otherwise, exit 2). Snakemake's command line reads ``--configfile`` before the workflow, where a missing or
    empty file ends in its own traceback or unnamed message; the workflow checks everything else itself."""
    try:
        for path in config_files(args):
            check_config_file(path)
    except LatentwalkError as exc:
        print(f"latentwalk run: invalid config: {exc}", file=sys.stderr)
        return 2
    sys.stdout.flush()
    os.execv(sys.executable, [sys.executable, "-m", "snakemake", *args])
    return 0  # pragma: no cover (execv does not return)


def main(argv: Sequence[str] | None = None) -> int:
    """``latentwalk run [SNAKEMAKE ARGS]`` (:func:`_run`), ``latentwalk verify [RESULTS]`` and ``latentwalk
    check-explorers [RESULTS]``: one line per problem (per page) and a summary; exit 1 on any problem, 2 when the
    check cannot run."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["run"]:  # everything after it is Snakemake's, options included
        return _run(argv[1:])
    parser = argparse.ArgumentParser(prog="latentwalk", description="latentwalk command-line tools")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("run", help="snakemake with the same arguments, once every config file it reads loads")
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
