"""What the workflow checks before it schedules any job (latentwalk.report.audit.preflight): the folders it writes,
and every trained run's checkpoint against its record; each failure one line naming the path."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from _helpers import one_line

from latentwalk.core.io import LatentwalkError, sha256_file
from latentwalk.core.registry import Run
from latentwalk.report.audit import preflight

RUN = Run("digits", "vae", 2)


def _checkpoint(root: Path, run: Run = RUN) -> Path:
    folder = root / "results" / "models" / run.name
    folder.mkdir(parents=True)
    (folder / "model.pt").write_bytes(b"weights")
    (folder / "meta.json").write_text(json.dumps({"model_sha256": sha256_file(folder / "model.pt")}))
    return folder / "model.pt"


def test_a_fresh_or_intact_workdir_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    preflight([RUN], "results")  # nothing made yet
    _checkpoint(tmp_path)
    preflight([RUN], "results")


def test_a_swapped_checkpoint_is_named_before_any_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    model = _checkpoint(tmp_path)
    model.write_bytes(b"other weights")
    with pytest.raises(LatentwalkError) as excinfo:
        preflight([RUN], "results")
    one_line(excinfo, "results/models/digits/vae-z2/model.pt", "is not the checkpoint", "meta.json records")
    preflight([Run("digits", "mine", 2)], "results")  # an external run has no checkpoint of ours to check


def test_results_that_cannot_be_written_are_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").write_text("not a folder")
    with pytest.raises(LatentwalkError) as excinfo:
        preflight([RUN], "results")
    one_line(excinfo, "results: is a file", "its results")
    (tmp_path / "results").unlink()
    (tmp_path / "results").mkdir()
    real_access = os.access
    # a read-only mount (root passes permission bits, so the test stands in for the mount at os.access)
    monkeypatch.setattr(os, "access", lambda path, mode: False if Path(path).name == "results" else real_access(path, mode))
    with pytest.raises(LatentwalkError) as excinfo:
        preflight([RUN], "results")
    one_line(excinfo, "results: cannot be written", "read-only", "writable copy")


def test_a_failed_run_ends_with_the_failed_jobs_own_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Snakemake's log names the failed job's rule, wildcards and log; the job's log ends with its ERROR line."""
    from latentwalk.core.logs import last_job_error

    monkeypatch.chdir(tmp_path)
    job_log = tmp_path / "results/logs/encode/digits/vae-z2.log"
    job_log.parent.mkdir(parents=True)
    job_log.write_text("2026-12-05 10:00:00 start\nTraceback ...\n2026-12-05 10:00:01 ERROR x.parquet: no mu_1\n")
    snakemake_log = tmp_path / "run.log"
    snakemake_log.write_text("Select jobs to execute...\nError in rule encode:\n    message: None\n    jobid: 3\n"
                             "    log: results/logs/encode/digits/vae-z2.log (check log file(s) for error details)\n"
                             "    wildcards: dataset=digits, model=vae, dim=2\n\nShutting down\n")
    assert last_job_error(snakemake_log) == ("error in rule encode (dataset=digits, model=vae, dim=2): x.parquet: no mu_1 "
                                             "[log: results/logs/encode/digits/vae-z2.log]")
    assert last_job_error(tmp_path / "missing.log") is None and last_job_error(None) is None
