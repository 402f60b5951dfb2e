"""Atomic writes, provenance and per-job logs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from _helpers import one_line
from hypothesis import given, settings
from hypothesis import strategies as st

from latentwalk.core.io import (
    LatentwalkError,
    atomic_dir,
    atomic_path,
    method_files,
    provenance,
    save_npz,
    sha256_file,
    write_json,
    write_parquet,
)
from latentwalk.core.logs import job_log


def test_atomic_path_renames_on_success(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.npz"
    with atomic_path(target) as tmp:
        assert tmp.parent == target.parent and tmp.suffix == ".npz" and tmp != target
        tmp.write_bytes(b"payload")
        assert not target.exists()
    assert target.read_bytes() == b"payload"
    assert sorted(p.name for p in target.parent.iterdir()) == ["out.npz"]


def test_atomic_path_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(ValueError):
        with atomic_path(target) as tmp:
            tmp.write_text("half-written")
            raise ValueError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


def test_write_json_and_npz_round_trip(tmp_path: Path) -> None:
    write_json(tmp_path / "a.json", {"b": np.float32(1.5), "a": np.arange(3), "p": tmp_path})
    text = (tmp_path / "a.json").read_text()
    assert json.loads(text) == {"a": [0, 1, 2], "b": 1.5, "p": str(tmp_path)}
    assert text.index('"a"') < text.index('"b"')  # sorted keys: stable diffs
    save_npz(tmp_path / "x.npz", images=np.ones((2, 3), np.float32))
    with np.load(tmp_path / "x.npz") as data:
        np.testing.assert_array_equal(data["images"], np.ones((2, 3)))


def test_provenance_records_inputs_and_versions(tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(b"abc")
    record = provenance(stage="s", config={"k": 1}, inputs=[source], seed=3)
    assert record["inputs"] == {str(source): "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}
    assert record["inputs"][str(source)] == sha256_file(source)
    assert record["seed"] == 3 and record["config"] == {"k": 1}
    assert {"python", "numpy", "latentwalk"} <= set(record["versions"])


def test_job_log_captures_messages_output_and_errors(tmp_path: Path) -> None:
    log_file = tmp_path / "logs" / "job.log"
    with pytest.raises(LatentwalkError):
        with job_log(log_file) as log:
            log("hello")
            print("printed")
            raise LatentwalkError("data.npz: broken")
    text = log_file.read_text().splitlines()
    assert text[0].endswith(" hello")
    assert text[1] == "printed"
    assert text[2] == "Traceback (most recent call last):"  # the traceback goes to the log
    assert text[-1].endswith("ERROR data.npz: broken")


class _Named(dict):
    """Stands in for Snakemake's Namedlist where only items() and iteration over values are used."""

    def __iter__(self):  # type: ignore[override]
        for value in self.values():
            yield from (value if isinstance(value, list) else [value])


class _Job:
    """The parts of a rule script's `snakemake` object that job_log uses (a real one in the workflow tests)."""

    def __init__(self, root: Path, output: Path, inputs: list[Path]) -> None:
        self.rule = "demo"
        self.wildcards = _Named(dataset="digits")
        self.params = _Named(seed=3, device="cpu", settings={"steps": 5})
        self.input = _Named(data=[str(p) for p in inputs])
        self.output = _Named(out=str(output))
        self.log = [str(root / "results/logs/demo/digits.log")]


def test_job_log_writes_the_job_record_on_success(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    source = Path("results/data/in.bin")
    source.parent.mkdir(parents=True)
    source.write_bytes(b"abc")
    job = _Job(Path("."), Path("results/out/run"), [source])
    with job_log(job) as log:
        log("working")
        Path("results/out/run").mkdir(parents=True)
        Path("results/out/run/a.csv").write_text("x\n")
        Path("results/out/run/.snakemake_timestamp").write_text("")
    record = json.loads(Path("results/provenance/demo/digits.json").read_text())
    assert record["rule"] == "demo" and record["wildcards"] == {"dataset": "digits"}
    assert record["params"] == {"seed": 3, "device": "cpu", "settings": {"steps": 5}} and record["device"] == "cpu"
    assert record["inputs"] == {"results/data/in.bin": sha256_file(source)}
    assert record["outputs"] == {"results/out/run/a.csv": sha256_file("results/out/run/a.csv")}  # directory expanded
    assert "numpy" in record["versions"] and "git_commit" in record


def test_job_log_ends_with_the_job_cost_counted_by_the_kernel(tmp_path: Path) -> None:
    """A successful job's last log line is its core-seconds from process start, its children's included (a child
    burning 0.6 s of CPU is counted in full), and its peak memory; a failed job's last line stays its error."""
    import re
    import subprocess
    import sys

    log_file = tmp_path / "job.log"
    burn = "import time; end = time.process_time() + 0.6\nwhile time.process_time() < end: pass"
    code = ("import subprocess, sys; from latentwalk.core.logs import job_log\n"
            f"with job_log({str(log_file)!r}) as log:\n"
            f"    subprocess.run([sys.executable, '-c', {burn!r}], check=True)\n"
            "    big = bytearray(300 * 2**20)\n")
    subprocess.run([sys.executable, "-c", code], check=True)
    last = log_file.read_text().splitlines()[-1]
    match = re.search(r"job cost: ([0-9.]+) core-s, peak RSS (\d+) MiB$", last)
    assert match, last
    assert 0.6 <= float(match.group(1)) < 5.0
    assert 300 <= int(match.group(2)) < 2000
    with pytest.raises(LatentwalkError):
        with job_log(log_file):
            raise LatentwalkError("broken")
    assert log_file.read_text().splitlines()[-1].endswith("ERROR broken")


def test_peak_rss_is_the_programs_own_not_its_parents_at_the_spawn() -> None:
    """A process spawned without a shell by a parent holding 400 MiB reports its own peak (a bare interpreter's
    tens of MiB), not the parent's memory, which getrusage's ru_maxrss carries over exec on Linux."""
    import subprocess
    import sys

    if not Path("/proc/self/status").exists():
        pytest.skip("no /proc: peak_rss_mib falls back to ru_maxrss")
    child = ("import resource; from latentwalk.core.logs import peak_rss_mib\n"
             "print(peak_rss_mib(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    parent = ("import subprocess, sys\n"
              "held = bytearray(b'x' * (400 * 2**20))\n"
              f"print(subprocess.run([sys.executable, '-c', {child!r}], capture_output=True, text=True, check=True).stdout)")
    own, carried = map(float, subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True,
                                             check=True).stdout.split())
    assert carried >= 400  # what ru_maxrss says (the reason for VmHWM)
    assert 5 < own < 200


@pytest.mark.parametrize("fast", [True, False])
def test_a_rule_scripts_process_ends_after_its_job_without_teardown(tmp_path: Path, fast: bool) -> None:
    """With Snakemake's object, success ends the process at once: exit status 0, the record and the log complete,
    and no interpreter teardown (an atexit handler never runs); LATENTWALK_FAST_EXIT=0 keeps the teardown. A stand-in
    object (the one-process benchmark, these tests) never ends the process."""
    import os
    import subprocess
    import sys

    code = ("import atexit, sys\n"
            "from pathlib import Path\n"
            "sys.path.insert(0, 'tests')\n"
            "from test_io import _Job\n"
            "from latentwalk.core.logs import job_log\n"
            "Snakemake = type('Snakemake', (_Job,), {'__module__': 'snakemake.iocontainers'})\n"
            "atexit.register(lambda: print('teardown', flush=True))\n"
            f"job = Snakemake(Path({str(tmp_path)!r}), Path({str(tmp_path / 'out.txt')!r}), [])\n"
            "with job_log(job) as log:\n"
            f"    Path({str(tmp_path / 'out.txt')!r}).write_text('x')\n"
            "print('after the job')\n")
    env = {**os.environ, "LATENTWALK_FAST_EXIT": "1" if fast else "0"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parent.parent)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ([] if fast else ["after", "the", "job", "teardown"])
    assert (tmp_path / "results/logs/demo/digits.log").read_text().splitlines()[-1].split()[2:4] == ["job", "cost:"]
    assert (tmp_path / "results/provenance/demo/digits.json").exists()


def test_job_log_failure_is_one_line_on_stderr_and_the_traceback_in_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LATENTWALK_TRACEBACK", raising=False)
    job = _Job(Path("."), Path("results/out/x"), [])
    with pytest.raises(SystemExit) as exited:
        with job_log(job):
            raise LatentwalkError("results/latents/x.parquet: missing mu_1")
    assert exited.value.code == 1
    err = capfd.readouterr().err.strip().splitlines()
    assert err == ["error in rule demo (dataset=digits): results/latents/x.parquet: missing mu_1 "
                   "[log: results/logs/demo/digits.log]"]
    text = Path("results/logs/demo/digits.log").read_text()
    assert "Traceback (most recent call last):" in text and "ERROR results/latents/x.parquet: missing mu_1" in text
    assert not Path("results/provenance").exists()  # no record for a failed job
    monkeypatch.setenv("LATENTWALK_TRACEBACK", "1")
    with pytest.raises(ZeroDivisionError):  # for debugging: the exception itself reaches the terminal
        with job_log(job):
            1 / 0


def test_atomic_dir_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "run" / "paths"
    with atomic_dir(target) as tmp:
        (tmp / "lerp.parquet").write_text("a")
        assert not target.exists()  # nothing visible until the body succeeds
    assert sorted(p.name for p in target.iterdir()) == ["lerp.parquet"]
    assert target.stat().st_mode & 0o777 == 0o777 & ~_umask()  # a normal directory, not mkdtemp's 0700
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "slerp.parquet").write_text("b")
            raise RuntimeError("job failed")
    assert sorted(p.name for p in target.iterdir()) == ["lerp.parquet"]  # the old directory is untouched
    assert [p.name for p in target.parent.iterdir()] == ["paths"]  # no temporary directory left behind
    with atomic_dir(target) as tmp:
        (tmp / "grid.parquet").write_text("c")
    assert sorted(p.name for p in target.iterdir()) == ["grid.parquet"]  # replaced whole


def _umask() -> int:
    import os

    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_method_files_checks_the_directory_holds_exactly_the_methods(tmp_path: Path) -> None:
    for name in ("lerp.npz", "grid.npz"):
        (tmp_path / name).write_text("x")
    assert method_files(tmp_path, ["lerp", "grid"], ".npz") == [tmp_path / "lerp.npz", tmp_path / "grid.npz"]
    with pytest.raises(LatentwalkError) as excinfo:
        method_files(tmp_path, ["lerp"], ".npz")
    one_line(excinfo, str(tmp_path), "expected lerp.npz", "found grid.npz, lerp.npz")
    with pytest.raises(LatentwalkError) as excinfo:
        method_files(tmp_path / "missing", ["lerp"], ".npz")
    one_line(excinfo, "found nothing")


def test_end_timers_cancels_pending_timers_so_the_process_can_exit() -> None:
    """Snakemake's scheduler leaves rate-limit timers behind; the workflow's onsuccess/onerror cancel them, else
    the interpreter would wait for each before exiting."""
    import threading

    from latentwalk.core.logs import end_timers

    fired: list[int] = []
    timers = [threading.Timer(30.0, fired.append, args=(k,)) for k in range(3)]
    for timer in timers:
        timer.start()
    other = threading.Thread(target=lambda: None)
    other.start()
    assert end_timers() == 3
    for timer in timers:
        timer.join(timeout=5.0)
        assert not timer.is_alive()
    other.join()
    assert fired == [] and end_timers() == 0


def test_the_profiles_spread_snakemakes_rate_limit_wakeups() -> None:
    """Each profile sets the job rate limit that cuts the scheduler's wake-ups (latentwalk.core.logs.end_timers), and the
    workflow ends the last timers on success and on error."""
    import yaml

    for profile in ("default/profile.yaml", "slurm/config.yaml", "slurm-gpu/config.yaml"):
        settings = yaml.safe_load((Path(__file__).resolve().parents[1] / "profiles" / profile).read_text())
        assert settings["max-jobs-per-timespan"] == "1000/10s", profile
    common = (Path(__file__).resolve().parents[1] / "workflow" / "rules" / "common.smk").read_text()
    assert "onsuccess:\n    end_timers()" in common and "onerror:\n    end_timers()" in common


@st.composite
def _tables(draw: st.DrawFn) -> dict[str, np.ndarray]:
    """Columns of every kind a stage writes: integers, floats with NaN, booleans, strings with gaps, fixed strings."""
    n = draw(st.integers(0, 12))
    words = st.one_of(st.none(), st.text(max_size=5))
    return {
        "path_id": np.array(draw(st.lists(st.integers(-2**40, 2**40), min_size=n, max_size=n)), dtype=np.int64),
        "t": np.array(draw(st.lists(st.one_of(st.floats(allow_nan=False), st.just(float("nan"))), min_size=n, max_size=n)),
                      dtype=np.float64),
        "flag": np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)), dtype=bool),
        "variant": np.array(draw(st.lists(words, min_size=n, max_size=n)), dtype=object),
        "method": np.full(n, draw(st.sampled_from(["lerp", "prior_pairs"]))),
    }


@settings(max_examples=60, deadline=None)
@given(table=_tables())
def test_a_table_written_as_columns_is_the_table_pandas_writes(table: dict[str, np.ndarray]) -> None:
    """Jobs write their tables without pandas; the Parquet file holds what writing the same DataFrame held: the same
    column types (strings as large_string), values and nulls (NaN as null), metadata, only without pandas' own key."""
    import tempfile

    import pandas as pd
    import pyarrow.parquet as pq

    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = Path(tmp) / "ours.parquet", Path(tmp) / "theirs.parquet"
        write_parquet(table, ours, {"run": "digits/vae-z2"})
        write_parquet(pd.DataFrame(table), theirs, {"run": "digits/vae-z2"})
        a, b = pq.ParquetFile(ours).read(), pq.ParquetFile(theirs).read()
    assert a.schema.metadata == {k: v for k, v in b.schema.metadata.items() if k != b"pandas"}
    assert a.replace_schema_metadata(None).equals(b.replace_schema_metadata(None))
    assert a.replace_schema_metadata(None).schema == b.replace_schema_metadata(None).schema


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (every write to it fails with ENOSPC)")
@pytest.mark.parametrize("directory", [False, True])
def test_a_full_disk_names_the_file_being_written_and_leaves_nothing(tmp_path: Path, directory: bool) -> None:
    from latentwalk.core.io import atomic_dir, atomic_path

    target = tmp_path / ("walks" if directory else "table.csv")
    with pytest.raises(LatentwalkError) as excinfo:
        with atomic_dir(target) if directory else atomic_path(target), open("/dev/full", "wb") as full:
            full.write(b"x" * 4096)
            full.flush()  # a real ENOSPC, as a full disk gives it: the OSError names no file
    message = str(excinfo.value)
    assert message.startswith(f"{target}: cannot be written: no space left on the device (errno 28)") and "\n" not in message
    assert list(tmp_path.iterdir()) == []  # no temporary, no half-written target
