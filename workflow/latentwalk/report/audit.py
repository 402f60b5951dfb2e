"""The audit trail: job records, the manifest of ``results/``, and ``latentwalk verify``.

Every job writes a record (:func:`latentwalk.core.logs.write_job_record`, called by
:func:`latentwalk.core.logs.job_log`) with its rule, wildcards, params, package
versions, git commit and the SHA-256 of each input and output file. The
``manifest`` rule joins the records into ``results/manifest.tsv`` (path,
SHA-256, bytes, rule, inputs). :func:`verify` checks ``results/`` against the
manifest and the records: files that are missing, modified since the manifest,
not accounted for (orphans), or stale (an input changed after the file was
made), plus the checkpoint hash each run's ``meta.json`` records.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from latentwalk.core.io import LatentwalkError, atomic_path, check_checkpoint, sha256_file
from latentwalk.core.logs import TIMESTAMP

__all__ = ["manifest", "write_manifest", "read_manifest", "preflight", "verify", "check", "Problem", "AUDIT_DIRS", "UNLISTED"]

#: Folders under results/ that hold the audit trail itself (logs, timings, job records), not artifacts.
AUDIT_DIRS = ("logs", "benchmarks", "provenance")
#: Files under results/ that are built from the others and not listed in the manifest.
UNLISTED = ("manifest.tsv", "report.html", "report.zip")
MANIFEST_COLUMNS = ("path", "sha256", "bytes", "rule", "inputs")


def _records(results: Path) -> list[tuple[Path, dict[str, Any]]]:
    folder = results / "provenance"
    out = []
    for path in sorted(folder.rglob("*.json")) if folder.is_dir() else []:
        try:
            out.append((path, json.loads(path.read_text())))
        except (OSError, json.JSONDecodeError) as exc:
            raise LatentwalkError(f"{path}: cannot read job record: {str(exc).splitlines()[0]}") from exc
    return out


def manifest(results: str | os.PathLike[str], out_tsv: str | os.PathLike[str], log: Any = None) -> None:
    """Rule manifest: write ``out_tsv`` from the job records under ``results`` (:func:`write_manifest`)."""
    rows = write_manifest(results, out_tsv)
    if log is not None:
        log(f"{rows} artifacts in the manifest")


def write_manifest(results: str | os.PathLike[str], out_tsv: str | os.PathLike[str]) -> int:
    """Write ``results/manifest.tsv``: one row per artifact that a job record names; returns the row count.

    Artifacts are the outputs of the records under ``results/provenance/``
    that still exist (a job's record is rewritten whenever the job reruns).
    """
    root = Path(results)
    rows: dict[str, tuple[str, int, str, str]] = {}
    for _, record in _records(root):
        inputs = ",".join(sorted(record["inputs"]))
        for name in record["outputs"]:
            path = Path(name)
            if path.is_file() and path.name not in UNLISTED:
                rows[name] = (sha256_file(path), path.stat().st_size, record["rule"], inputs)
    with atomic_path(out_tsv) as tmp:
        with open(tmp, "w") as handle:
            handle.write("\t".join(MANIFEST_COLUMNS) + "\n")
            for name in sorted(rows):
                sha, size, rule, inputs = rows[name]
                handle.write(f"{name}\t{sha}\t{size}\t{rule}\t{inputs}\n")
    return len(rows)


class Problem(NamedTuple):
    """One finding of :func:`verify`: ``kind`` is missing, modified, orphan or stale."""

    kind: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.path} ({self.detail})"


def read_manifest(path: Path) -> dict[str, dict[str, str]]:
    """The manifest's rows by path (columns :data:`MANIFEST_COLUMNS`); a one-line error when it is missing or malformed."""
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise LatentwalkError(f"{path}: cannot read the manifest ({exc.strerror}); run snakemake first") from exc
    if not lines or tuple(lines[0].split("\t")) != MANIFEST_COLUMNS:
        raise LatentwalkError(f"{path}: not a manifest (expected the header {' '.join(MANIFEST_COLUMNS)})")
    rows = {}
    for number, line in enumerate(lines[1:], 2):
        cells = line.split("\t")
        if len(cells) != len(MANIFEST_COLUMNS):
            raise LatentwalkError(f"{path} line {number}: expected {len(MANIFEST_COLUMNS)} columns, got {len(cells)}")
        rows[cells[0]] = dict(zip(MANIFEST_COLUMNS, cells))
    return rows


def _artifacts_on_disk(root: Path) -> list[str]:
    out = []
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or rel.parts[0] in AUDIT_DIRS or path.name in (TIMESTAMP, ".gitkeep") or str(rel) in UNLISTED:
            continue
        out.append(path.as_posix())
    return out


def preflight(runs: Sequence[Any], results: str | os.PathLike[str] = "results") -> None:
    """What the workflow checks before it schedules any job (the main process only: in a cluster job step another
    job may be between writing a checkpoint and its record), each failure one :class:`LatentwalkError` line.

    ``results`` and ``.snakemake`` (or the folder they would be made in) must be writable folders; every trained
    run's ``model.pt`` must be the checkpoint its ``meta.json`` records (:func:`~latentwalk.core.io.check_checkpoint`),
    so a swapped or edited one stops the run whatever its mtime, before anything is deleted or retried.
    """
    for folder in (Path(results), Path(".snakemake")):
        if folder.exists() and not folder.is_dir():
            raise LatentwalkError(f"{folder}: is a file, but the workflow writes {'its results' if folder.name != '.snakemake' else 'its state'} in a folder there")
        existing = next(p for p in (folder, *folder.resolve().parents) if p.exists())
        if not os.access(existing, os.W_OK | os.X_OK):
            raise LatentwalkError(f"{folder}: cannot be written ({existing} is read-only or not ours); the workflow writes "
                                  f"{'its results' if folder.name != '.snakemake' else 'its state'} there: run it in a writable copy")
    for run in runs:
        model = Path(results, "models", run.name, "model.pt")
        if not run.external and model.is_file() and model.with_name("meta.json").is_file():
            check_checkpoint(model, model.with_name("meta.json"))


def verify(results: str | os.PathLike[str] = "results", manifest: str | os.PathLike[str] | None = None) -> list[Problem]:
    """Check ``results/`` against its manifest and job records; return every problem found (none: all good).

    - missing: listed in the manifest, not on disk;
    - modified: its SHA-256 differs from the manifest or from the output hash in the record of the job that made it
      (or a run's checkpoint, or an external model's encoder or decoder, from the hash its meta.json records);
    - orphan: on disk under results/ but named by no manifest row;
    - stale: an input's current SHA-256 differs from the one recorded when the file was made.
    Paths in the manifest are relative to the directory holding ``results/`` (the working directory of the run).
    """
    root = Path(results)
    rows = read_manifest(Path(manifest) if manifest is not None else root / "manifest.tsv")
    problems: list[Problem] = []
    current: dict[str, str | None] = {}

    def sha_now(name: str) -> str | None:
        if name not in current:
            current[name] = sha256_file(name) if Path(name).is_file() else None
        return current[name]

    records = _records(root)
    made = {out: (path, sha) for path, record in records for out, sha in record["outputs"].items()}
    modified: set[str] = set()
    for name, row in rows.items():
        now = sha_now(name)
        if now is None:
            problems.append(Problem("missing", name, f"made by rule {row['rule']}"))
        elif now != row["sha256"]:
            modified.add(name)
            problems.append(Problem("modified", name, f"SHA-256 {now[:12]}… but the manifest has {row['sha256'][:12]}…"))
    for name, (record_path, sha) in made.items():  # the job's own record, whatever the manifest says
        now = sha_now(name)
        if name not in modified and now is not None and now != sha:
            problems.append(Problem("modified", name, f"SHA-256 {now[:12]}… but its job record {record_path.as_posix()} "
                                                      f"has {sha[:12]}…"))
    listed = set(rows)
    for name in _artifacts_on_disk(root):
        if name not in listed:
            problems.append(Problem("orphan", name, "no job of the workflow made it"))
    for _, record in records:
        changed = [i for i, sha in record["inputs"].items() if sha_now(i) is not None and sha_now(i) != sha]
        for out in record["outputs"]:
            if changed and out in listed:
                problems.append(Problem("stale", out, f"input {changed[0]} changed after it was made"
                                        + (f" (+{len(changed) - 1} more)" if len(changed) > 1 else "")))
    for meta in sorted(root.glob("models/**/meta.json")):
        record = json.loads(meta.read_text())
        model = meta.with_name("model.pt")
        if "model_sha256" in record and model.is_file() and sha_now(model.as_posix()) != record["model_sha256"]:
            problems.append(Problem("modified", model.as_posix(), f"not the checkpoint {meta.as_posix()} records"))
        for part in ("encoder", "decoder") if "external" in record else ():  # an external model's files
            path, recorded = record["external"][part], record["external"][f"{part}_sha256"]
            if sha_now(path) is None:
                problems.append(Problem("missing", path, f"the {part} {meta.as_posix()} was imported from"))
            elif sha_now(path) != recorded:
                problems.append(Problem("modified", path, f"not the {part} {meta.as_posix()} was imported from"))
    return sorted(set(problems))


def check(results: str | os.PathLike[str], manifest: str | os.PathLike[str], log: Any = None) -> None:
    """The ``verify`` rule: log every problem and fail with a one-line summary naming the first one."""
    problems = verify(results, manifest)
    for problem in problems:
        if log is not None:
            log(str(problem))
    if problems:
        raise LatentwalkError(f"{len(problems)} problem(s) in {results}, first: {problems[0]} (all in the log)")
    if log is not None:
        log(f"verify: {len(read_manifest(Path(manifest)))} artifacts match {manifest} and their job records")
