"""Per-job logging and job records: every message, warning and traceback of a rule script goes to its ``log:`` file.

A rule script opens its job with ``with job_log(snakemake) as log:``. On success
the job's record (rule, wildcards, params, package versions, git commit and the
SHA-256 of every input and output file) is written to ``results/provenance/``
mirroring the log's path; ``latentwalk verify`` and the manifest are built from
these records. The log's last line is then the job's cost (:func:`job_cost`), and
the job's process exits at once, skipping the interpreter's teardown. On failure the traceback goes to the log file only and the job
prints one line, the error itself, as its last line of output; set
``LATENTWALK_TRACEBACK=1`` to see the traceback on the terminal too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import resource
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn

import latentwalk
from latentwalk.core.io import LatentwalkError, atomic_path, git_commit, package_versions, sha256_file

__all__ = ["stop", "watch_signals", "end_failed_run", "last_job_error", "SIGNALS_SEEN", "job_log", "job_cost", "peak_rss_mib", "Log", "quiet", "record_path", "write_job_record", "files_of",
           "TRACEBACK_ENV", "TIMESTAMP", "jsonable", "COST_PREFIX", "FAST_EXIT_ENV", "end_timers"]

#: A progress sink: stages call ``log(message)``; rule scripts pass the job log's writer.
Log = Callable[[str], None]
#: Set to 1 to let a failing job's traceback reach the terminal (it is always in the job's log).
TRACEBACK_ENV = "LATENTWALK_TRACEBACK"
#: Snakemake's marker inside directory outputs (not an artifact).
TIMESTAMP = ".snakemake_timestamp"


def quiet(_message: str) -> None:
    """A :data:`Log` that drops every message (the default outside Snakemake)."""


def record_path(log_file: str | os.PathLike[str]) -> Path:
    """Where the job record of the job logging to ``log_file`` goes: ``results/logs/X.log`` -> ``results/provenance/X.json``."""
    log = Path(log_file)
    parts = log.parts
    if "logs" in parts:
        k = len(parts) - 1 - parts[::-1].index("logs")
        return Path(*parts[:k], "provenance", *parts[k + 1 :]).with_suffix(".json")
    return log.with_suffix(".provenance.json")


def _one_line(exc: BaseException) -> str:

    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, LatentwalkError) else f"{type(exc).__name__}: {text}"


@contextlib.contextmanager
def job_log(job: Any) -> Iterator[Log]:
    """Open the job's log (``job`` is a rule script's ``snakemake`` object, or a log path) and yield ``log(message)``.

    stdout and stderr are routed into the log; each message is timestamped and
    flushed at once, so ``tail -f`` shows live progress. With a ``snakemake``
    object, success writes the job record and the job's cost and ends the process
    (:func:`_fast_exit`); failure exits with status 1 after printing the one-line
    error (the traceback stays in the log). With a plain path the exception is
    logged and re-raised.
    """
    is_job = hasattr(job, "log") and hasattr(job, "rule")
    target = Path(job.log[0] if is_job else job)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "w", buffering=1) as handle:

        def log(message: str) -> None:
            handle.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}\n")

        try:
            with contextlib.redirect_stdout(handle), contextlib.redirect_stderr(handle):
                yield log
        except BaseException as exc:
            handle.write(traceback.format_exc())
            log(f"ERROR {_one_line(exc)}")
            if not is_job or os.environ.get(TRACEBACK_ENV) == "1" or isinstance(exc, KeyboardInterrupt):
                raise
            print(f"error in rule {job.rule} ({_wildcards_text(job)}): {_one_line(exc)} [log: {target}]", file=sys.stderr)
            sys.stderr.flush()
            raise SystemExit(1) from None
        else:
            if is_job and len(job.output):  # a job that writes nothing (verify) leaves no record
                write_job_record(job, record_path(target))
            if "torch" in sys.modules:  # the job ran a model: on how many threads (its Snakemake threads)
                log(f"torch threads: {sys.modules['torch'].get_num_threads()}")
            log(job_cost())
        finally:
            handle.flush()
            sys.stderr.flush()
    if _fast_exit(job):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


#: Set to 0 to let a job's interpreter tear down normally after success (e.g. to collect coverage of rule scripts).
FAST_EXIT_ENV = "LATENTWALK_FAST_EXIT"


def _fast_exit(job: Any) -> bool:
    """Whether a successful job ends its process at once: only a rule script's own process (``job`` is Snakemake's
    object, not a stand-in), when everything is written, closed and flushed. The interpreter's teardown would free
    and finalise thousands of modules for nothing; kept because it saves more than 3% of the cold default run
    (benchmarks/bench_startup.py measures it)."""
    return type(job).__module__.startswith("snakemake") and os.environ.get(FAST_EXIT_ENV, "1") != "0"


def end_timers() -> int:
    """Cancel this process's pending :class:`threading.Timer` threads; return how many there were.

    For Snakemake's own process, from the workflow's ``onsuccess``/``onerror``. Its scheduler arms a Timer of one
    ``max-jobs-per-timespan`` period at every wake-up (to re-check the job rate limit), and every Timer that fires
    wakes it again: each finished job starts one more chain of wake-ups that lasts until the end, each wake-up
    re-reading the sizes of every ready job's inputs (snakemake/snakemake#2354 looks like its long-run form). The
    profiles set 1000/10s, the same rate with a tenth of the wake-ups; the interpreter would wait one period at exit
    for the last Timers, which are not daemon threads.
    """

    timers = [thread for thread in threading.enumerate() if isinstance(thread, threading.Timer) and thread.is_alive()]
    for timer in timers:
        timer.cancel()
    return len(timers)


def stop(message: str) -> NoReturn:
    """End Snakemake's process with the project's one line as the last thing the user sees (a WorkflowError raised
    in the Snakefile would be followed by Snakemake's own file-and-line lines), exit status 1."""
    print(message, file=sys.stderr, flush=True)
    raise SystemExit(1)


#: The signals that stopped this Snakemake process, in the order they came (:func:`watch_signals`).
SIGNALS_SEEN: list[str] = []


def watch_signals() -> None:
    """Note SIGTERM and SIGINT before Snakemake handles them (its own handlers still run), so that the workflow's
    ``onerror`` can say why the run stopped (:func:`end_failed_run`). From ``onstart``: Snakemake's scheduler
    installs its handlers before that."""
    for number in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(number)

        def note(signum: int, frame: Any, previous: Any = previous) -> None:
            SIGNALS_SEEN.append(signal.Signals(signum).name)
            if callable(previous):
                previous(signum, frame)
            elif previous == signal.SIG_DFL and signum == signal.SIGINT:
                raise KeyboardInterrupt

        signal.signal(number, note)


def end_failed_run(snakemake_log: Any) -> None:
    """From ``onerror``: end a failed run with the project's one line, not Snakemake's "At least one job did not
    complete successfully" (which reads as a job's failure when a signal stopped the run, and hides what failed):
    where a signal stopped it, say so and that a rerun continues; where a job failed, repeat that job's one-line
    error (:func:`last_job_error`). Otherwise Snakemake's own lines stand."""
    if SIGNALS_SEEN:
        how = "the running jobs finished first" if SIGNALS_SEEN[0] == "SIGTERM" else "the running jobs were stopped"
        stop(f"latentwalk: stopped by {SIGNALS_SEEN[0]} ({how}; what they completed is kept, nothing half-written): "
             "run the same command again to continue")
    message = last_job_error(snakemake_log)
    if message:
        stop(message)


def last_job_error(snakemake_log: Any) -> str | None:
    """The one-line error of the last job that failed, as the job printed it (``error in rule ...``), rebuilt from
    Snakemake's log of this run (the rule, wildcards and job log of each "Error in rule" block) and the ``ERROR``
    line the job wrote last in its own log; None when there is none. ``snakemake_log``: what Snakemake passes to
    ``onerror`` (a list of its log files), or one path."""
    logs = snakemake_log if isinstance(snakemake_log, list | tuple) else [snakemake_log]  # Snakemake passes a list
    text = ""
    for item in filter(None, logs):
        with contextlib.suppress(OSError, TypeError):
            text += Path(getattr(item, "baseFilename", item)).read_text(errors="replace")
    found = None
    for block in re.split(r"\n(?=Error in rule )", text)[1:]:
        rule = re.match(r"Error in rule (\S+):", block)
        log = re.search(r"^\s+log: (\S+)", block, flags=re.M)
        wildcards = re.search(r"^\s+wildcards: (.+)$", block, flags=re.M)
        if not (rule and log and Path(log.group(1)).is_file()):
            continue
        errors = [line.split(" ERROR ", 1)[1] for line in Path(log.group(1)).read_text(errors="replace").splitlines()
                  if " ERROR " in line]
        if errors:
            where = wildcards.group(1) if wildcards else "no wildcards"
            found = f"error in rule {rule.group(1)} ({where}): {errors[-1]} [log: {log.group(1)}]"
    return found


#: How :func:`job_cost` begins; the benchmarks read a job's core-seconds from this last line of its log.
COST_PREFIX = "job cost:"


def job_cost() -> str:
    """The job's cost so far, from the kernel's accounting: core-seconds (user + system) of this process since it
    started (interpreter and imports included) and of its finished children, and the peak resident memory.

    Exact, unlike Snakemake's ``benchmark:`` files, which sample the job every few seconds and miss what a job
    longer than the first interval spends after the last sample (a 40-core-second job was recorded as 15).
    """

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    return f"{COST_PREFIX} {cpu:.2f} core-s, peak RSS {peak_rss_mib():.0f} MiB"


def peak_rss_mib() -> float:
    """This process's peak resident memory, in MiB, since it started its program.

    Linux's ``VmHWM`` (``/proc/self/status``): the high-water mark of the program's own address space. Not
    ``getrusage``'s ``ru_maxrss``, which Linux carries over ``exec``: a process spawned without a shell from a
    large parent (a Python process holding torch and a dataset) reports the parent's resident memory at the spawn
    as its own peak (a 14 MiB child of a 627 MiB parent reports 627). ``ru_maxrss`` where there is no ``/proc``.
    """
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass

    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _wildcards_text(job: Any) -> str:
    items = [f"{k}={v}" for k, v in dict(job.wildcards.items()).items()]
    return ", ".join(items) or "no wildcards"


def files_of(paths: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Files named by ``paths``, with each directory expanded to the files inside it (sorted, POSIX separators)."""
    out: list[str] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            out += sorted(p.as_posix() for p in path.rglob("*") if p.is_file() and p.name != TIMESTAMP)
        elif path.exists():
            out.append(path.as_posix())
    return out


def jsonable(value: Any) -> Any:
    """``value`` with mappings, lists and scalars kept and anything else as its string (for JSON and YAML)."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def write_job_record(job: Any, path: str | os.PathLike[str]) -> dict[str, Any]:
    """Write the record of a finished job (``job``: a rule script's ``snakemake`` object) to ``path`` and return it.

    ``package`` is the folder of the ``latentwalk`` package the job ran, relative to the working directory (the
    workflow's own ``workflow/latentwalk`` unless something put another copy first on the job's path)."""
    params = {k: v for k, v in job.params.items()}
    record = {
        "rule": job.rule,
        "wildcards": dict(job.wildcards.items()),
        "params": jsonable(params),
        "device": params.get("device"),
        "versions": package_versions(),
        "git_commit": git_commit(),
        "package": os.path.relpath(Path(latentwalk.__file__).parent),
        "inputs": {f: sha256_file(f) for f in files_of(job.input)},
        "outputs": {f: sha256_file(f) for f in files_of(job.output)},
        "log": [str(p) for p in job.log],
    }
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record
