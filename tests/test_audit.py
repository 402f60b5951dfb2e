"""The audit trail and failure behaviour, end to end on the tiny run: the manifest and `latentwalk verify`,
bad inputs as a new user would make them (each a one-line error naming the file or key), nothing left
behind, and byte-identical results across directories and after a SIGKILL.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from _workflow import SNAKEMAKE, snakemake, tiny_repo

pytestmark = pytest.mark.workflow

#: Under results/, what may differ between two runs: logs, timings, the report (it records job times) and the
#: report job's record (it holds the report's SHA-256).
VOLATILE = ("logs", "benchmarks", "report.html", "provenance/report.json")


def _copy_run(tiny_run: Path, dest: Path) -> Path:
    """A copy of the finished tiny run (workflow files, results and Snakemake's metadata)."""
    shutil.copytree(tiny_run, dest, symlinks=True, ignore=shutil.ignore_patterns("locks"))
    return dest


def verify(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`latentwalk verify` (the console script's module) in ``workdir``."""
    return subprocess.run([sys.executable, "-m", "latentwalk.report.cli", "verify", *args], cwd=workdir, capture_output=True,
                          text=True, timeout=300)


def job_error(proc: subprocess.CompletedProcess[str]) -> str:
    """The one-line message a failing job printed (its last line of output before Snakemake's own report)."""
    lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("error in rule ")]
    assert lines, (proc.stdout + proc.stderr)[-3000:]
    return lines[-1]


def _artifacts(workdir: Path) -> dict[str, bytes]:
    root = workdir / "results"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] not in VOLATILE and str(p.relative_to(root)) not in VOLATILE}


# --------------------------------------------------------------------------- manifest and verify


def test_manifest_lists_every_artifact_with_its_rule_and_inputs(tiny_run: Path) -> None:
    manifest = pd.read_csv(tiny_run / "results/manifest.tsv", sep="\t")
    assert list(manifest.columns) == ["path", "sha256", "bytes", "rule", "inputs"]
    paths = set(manifest["path"])
    assert "results/models/digits/vae-z2/model.pt" in paths and "results/paths/digits/vae-z2/lerp.parquet" in paths
    assert "results/figures/lines/vae-z2/walks/spiral.gif" in paths
    assert not any(p.startswith(("results/logs", "results/benchmarks", "results/provenance")) for p in paths)
    row = manifest.set_index("path").loc["results/decoded/digits/vae-z2/lerp.npz"]
    assert row["rule"] == "decode" and "results/paths/digits/vae-z2/lerp.parquet" in row["inputs"].split(",")
    assert "results/models/digits/vae-z2/model.pt" in row["inputs"].split(",")
    record = json.loads((tiny_run / "results/provenance/decode/digits/vae-z2.json").read_text())
    assert record["rule"] == "decode" and record["wildcards"] == {"dataset": "digits", "model": "vae", "dim": "2"}
    assert record["params"]["methods"][0] == "lerp" and record["device"] == "auto" and "torch" in record["versions"]
    for artifact in (tiny_run / "results").rglob("*"):
        if artifact.is_file() and artifact.suffix in (".json", ".tsv", ".csv"):
            assert str(tiny_run) not in artifact.read_text(), artifact  # no absolute path of this machine


def test_verify_passes_on_a_fresh_run(tiny_run: Path) -> None:
    proc = verify(tiny_run)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1].endswith("artifacts in the manifest, 0 problem(s)")
    assert snakemake(tiny_run, "verify", "--configfile", "tiny.yaml").returncode == 0  # the Snakemake target too


def _flip_a_byte(work: Path) -> str:
    path = work / "results/latents/digits/ae-z2.parquet"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    return "modified: results/latents/digits/ae-z2.parquet"


def _swap_checkpoint(work: Path) -> str:
    shutil.copy(work / "results/models/digits/vae-z2/model.pt", work / "results/models/digits/ae-z2/model.pt")
    return "modified: results/models/digits/ae-z2/model.pt"


def _add_orphan(work: Path) -> str:
    (work / "results/stats/digits/notes.csv").write_text("a,b\n")
    return "orphan: results/stats/digits/notes.csv"


def _delete_artifact(work: Path) -> str:
    (work / "results/stats/summary.csv").unlink()
    return "missing: results/stats/summary.csv"


@pytest.mark.parametrize("damage", [_flip_a_byte, _swap_checkpoint, _add_orphan, _delete_artifact])
def test_verify_fails_naming_the_file(tiny_run: Path, tmp_path: Path, damage: Callable[[Path], str]) -> None:
    work = _copy_run(tiny_run, tmp_path / "run")
    expected = damage(work)
    proc = verify(work)
    assert proc.returncode == 1
    lines = proc.stdout.strip().splitlines()
    assert any(line.startswith(expected) for line in lines), proc.stdout
    if damage in (_flip_a_byte, _swap_checkpoint):  # what was made from the changed file is stale
        stale = "results/paths" if damage is _flip_a_byte else "results/decoder_paths"  # the geodesic job reads the model
        assert any(line.startswith(f"stale: {stale}/digits/ae-z2/") for line in lines), proc.stdout
    rule = snakemake(work, "verify", "--configfile", "tiny.yaml", check=False)
    if damage is _swap_checkpoint:  # stopped before any job: the checkpoint is checked before scheduling
        assert rule.returncode != 0 and "is not the checkpoint" in last_line(rule)
    else:
        assert rule.returncode != 0 and expected in job_error(rule)


def last_line(proc: subprocess.CompletedProcess[str]) -> str:
    """The last line Snakemake printed (stderr, else stdout)."""
    return ((proc.stderr.strip() or proc.stdout.strip()).splitlines() or [""])[-1]


def _rewrite(path: Path) -> tuple[str, str]:
    """Change one byte of ``path``; its SHA-256 before and after."""
    from latentwalk.core.io import sha256_file

    before = sha256_file(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    return before, sha256_file(path)


def _set_manifest_row(work: Path, name: str, sha: str) -> None:
    manifest = work / "results/manifest.tsv"
    manifest.write_text("".join(line.replace(line.split("\t")[1], sha, 1) if line.startswith(name + "\t") else line
                                for line in manifest.read_text().splitlines(keepends=True)))


def _set_record(work: Path, record: str, name: str, sha: str) -> None:
    path = work / "results/provenance" / record
    data = json.loads(path.read_text())
    data["outputs"][name] = sha
    path.write_text(json.dumps(data))


TAMPERING = {
    # case: (the changed file, the job record that made it, what is updated to match the change)
    "artifact only": ("results/stats/digits/ae-z2/path_norms.csv", "path_stats/digits/ae-z2.json", ()),
    "artifact and its manifest row": ("results/stats/digits/ae-z2/path_norms.csv", "path_stats/digits/ae-z2.json", ("manifest",)),
    "artifact and its job record": ("results/stats/digits/ae-z2/path_norms.csv", "path_stats/digits/ae-z2.json", ("record",)),
    "a final output and its row": ("results/figures/digits/ae-z2/path_norms.svg", "plot_walks/digits/ae-z2.json", ("manifest",)),
    "an intermediate and its row": ("results/latents/digits/ae-z2.parquet", "encode/digits/ae-z2.json", ("manifest",)),
}


@pytest.mark.parametrize("case", list(TAMPERING))
def test_verify_names_a_tampered_file_whichever_record_it_contradicts(tiny_run: Path, tmp_path: Path, case: str) -> None:
    name, record, updated = TAMPERING[case]
    work = _copy_run(tiny_run, tmp_path / "run")
    _, after = _rewrite(work / name)
    if "manifest" in updated:
        _set_manifest_row(work, name, after)
    if "record" in updated:
        _set_record(work, record, name, after)
    proc = verify(work)
    lines = proc.stdout.strip().splitlines()
    assert proc.returncode == 1 and any(line.startswith(f"modified: {name} ") for line in lines), proc.stdout
    if "manifest" in updated:
        assert any(f"its job record results/provenance/{record}" in line for line in lines if line.startswith("modified"))


def test_a_swapped_checkpoint_stops_the_run_before_any_job_and_deletes_nothing(tiny_run: Path, tmp_path: Path) -> None:
    """Whatever its mtime: kept (Snakemake sees nothing to do) or new (Snakemake would rerun the run's jobs)."""
    for keep_mtime in (True, False):
        work = _copy_run(tiny_run, tmp_path / f"run{keep_mtime}")
        model = work / "results/models/digits/ae-z2/model.pt"
        stamp = model.stat()
        _swap_checkpoint(work)
        if keep_mtime:
            os.utime(model, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
        latents = (work / "results/latents/digits/ae-z2.parquet").read_bytes()
        proc = snakemake(work, "--configfile", "tiny.yaml", check=False)
        assert proc.returncode != 0
        assert "results/models/digits/ae-z2/model.pt: SHA-256" in last_line(proc) and "is not the checkpoint" in last_line(proc)
        assert "Traceback" not in proc.stdout + proc.stderr and "Select jobs to execute" not in proc.stdout + proc.stderr
        assert (work / "results/latents/digits/ae-z2.parquet").read_bytes() == latents  # nothing deleted


# --------------------------------------------------------------------------- bad inputs, one line each


def _drop_mu_keep_metadata(work: Path) -> None:
    path = work / "results/latents/digits/ae-z2.parquet"
    pq.write_table(pq.read_table(path).drop(["mu_1"]), path)


def _drop_mu_and_metadata(work: Path) -> None:
    path = work / "results/latents/digits/ae-z2.parquet"
    table = pd.read_parquet(path).drop(columns=["mu_1"])
    table.to_parquet(path)


def _wrong_dim_paths(work: Path) -> None:
    path = work / "results/paths/digits/ae-z2/lerp.parquet"
    pq.write_table(pq.read_table(path).drop(["z_1"]), path)


def _short_decoded(work: Path) -> None:
    import numpy as np

    path = work / "results/decoded/digits/ae-z2/lerp.npz"
    with np.load(path) as handle:
        arrays = dict(handle)
    arrays["images"] = arrays["images"][:, :-1]
    np.savez_compressed(path, **arrays)


BAD_JOBS = {
    # case: (damage, target to build, what the one-line error must say)
    "latents column dropped, metadata kept": (
        _drop_mu_keep_metadata, "results/decoder_paths/digits/ae-z2",  # the first job to read the latents
        ("results/latents/digits/ae-z2.parquet", "mu_* columns do not match latent_dim 2", "missing mu_1")),
    "latents column dropped, metadata lost": (
        _drop_mu_and_metadata, "results/decoder_paths/digits/ae-z2",  # the first job to read the latents
        ("results/latents/digits/ae-z2.parquet", "no latentwalk metadata")),
    "path table of the wrong dimension": (
        _wrong_dim_paths, "results/stats/digits/ae-z2/path_norms.csv",
        ("results/paths/digits/ae-z2/lerp.parquet", "paths are 1-D", "are 2-D")),
    "decoded frames that do not match their paths": (
        _short_decoded, "results/stats/digits/ae-z2/path_norms.csv",
        ("results/decoded/digits/ae-z2/lerp.npz", "30 decoded frames but its path table has 33 points")),
}


@pytest.mark.parametrize("case", list(BAD_JOBS))
def test_bad_artifact_fails_its_job_with_one_line(tiny_run: Path, tmp_path: Path, case: str) -> None:
    damage, target, needles = BAD_JOBS[case]
    work = _copy_run(tiny_run, tmp_path / "run")
    damage(work)
    # a file edited inside a directory output does not change the directory's time stamp: force its consumer
    force = ["--force"] if case.startswith(("path table", "decoded")) else []
    proc = snakemake(work, target, "--configfile", "tiny.yaml", *force, check=False)
    assert proc.returncode != 0
    message = job_error(proc)
    for needle in needles:
        assert needle in message, (needle, message)
    assert last_line(proc) == message  # the job's own line is also the run's last (not Snakemake's summary)
    assert "Traceback" not in proc.stdout + proc.stderr  # tracebacks stay in the job's log
    log = message.rsplit("[log: ", 1)[1].rstrip("]")
    assert "Traceback (most recent call last):" in (work / log).read_text()
    assert not (work / target).exists()  # no half-written output


BAD_CONFIGS = {
    # case: (config overrides, the message Snakemake must print before any job)
    "device cuda without a GPU": ({"device": "cuda"}, "config key device: 'cuda' but torch"),
    "attribute class with no examples": ({"paths": {"attribute": {"class_pairs": [[12, 1]]}}},
                                         "config key paths.attribute.class_pairs[0]: class 12 is not a label of any class-labelled dataset ('digits': labels 0..9)"),
    "no method applies to a run": ({"paths": {"methods": ["spiral"]}, "latent_dims": [2, 3]},
                                   "config key paths.methods: no configured method applies to run digits/ae-z3"),
    "unknown method": ({"paths": {"methods": ["lerp", "wobble"]}}, "config key paths.methods[1]: 'wobble' is not allowed"),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_config_fails_before_any_job(tmp_path: Path, case: str) -> None:
    overrides, needle = BAD_CONFIGS[case]
    if case.startswith("device cuda"):
        import torch

        if torch.cuda.is_available():
            pytest.skip("this machine has a CUDA device")
    work = tiny_repo(tmp_path / "repo")
    config = yaml.safe_load((work / "tiny.yaml").read_text())
    for key, value in overrides.items():
        config[key] = {**config[key], **value} if isinstance(value, dict) and key in config else value
    (work / "tiny.yaml").write_text(yaml.safe_dump(config))
    proc = snakemake(work, "--configfile", "tiny.yaml", check=False)
    assert proc.returncode != 0 and needle in proc.stdout + proc.stderr, (proc.stdout + proc.stderr)[-2000:]
    assert not (work / "results").exists()


def test_a_duplicate_key_in_a_configfile_is_one_line_naming_file_line_and_key(tmp_path: Path) -> None:
    work = tiny_repo(tmp_path / "repo")
    (work / "dup.yaml").write_text("seed: 1\ntrain:\n  batch_size: 8\nseed: 2\n")
    proc = snakemake(work, "-n", "--configfile", "tiny.yaml", "dup.yaml", check=False)
    assert proc.returncode != 0
    assert last_line(proc).endswith("line 4: key 'seed' appears twice in one mapping (first on line 1); YAML would "
                                     "silently keep the later one: keep one"), last_line(proc)
    assert "dup.yaml" in last_line(proc) and "Traceback" not in proc.stdout + proc.stderr


def test_yaml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    work = tiny_repo(tmp_path / "repo")
    shutil.copy(Path(__file__).resolve().parents[1] / "config.yaml", work / "config.yaml")
    text = (work / "config.yaml").read_text().replace("\n  test_fraction:", "\n\ttest_fraction:")
    (work / "config.yaml").write_text(text)
    line = text.splitlines().index(next(l for l in text.splitlines() if l.startswith("\ttest_fraction"))) + 1
    proc = snakemake(work, "-n", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and f"invalid config: config.yaml line {line}, column 1: not valid YAML" in out, out[-2000:]


def test_degenerate_training_is_flagged(tmp_path: Path) -> None:
    """An autoencoder at learning rate 1e6 ends with a finite but useless loss: the log and meta.json say so."""
    work = tiny_repo(tmp_path / "repo")
    config = yaml.safe_load((work / "tiny.yaml").read_text())
    config["train"] = {**config["train"], "learning_rate": 1.0e6, "epochs": {"digits": 3, "lines": 3}}
    (work / "tiny.yaml").write_text(yaml.safe_dump(config))
    snakemake(work, "results/models/digits/ae-z2/meta.json", "--configfile", "tiny.yaml")
    check = json.loads((work / "results/models/digits/ae-z2/meta.json").read_text())["training_check"]
    assert check["degenerate"] and "no better than predicting the mean image" in check["reason"]
    assert check["reconstruction"] >= 0.98 * check["mean_image_reconstruction"]
    assert "WARNING degenerate training" in (work / "results/logs/train/digits/ae-z2.log").read_text()


# --------------------------------------------------------------------------- nothing left behind


def test_dry_run_with_the_default_profile_writes_nothing(tiny_run: Path, tmp_path: Path) -> None:
    work = _copy_run(tiny_run, tmp_path / "run")
    before = {p: p.stat().st_mtime_ns for p in (work / "results").rglob("*")}
    proc = snakemake(work, "-n", "--configfile", "tiny.yaml", profile=True)
    assert "Nothing to be done" in proc.stdout + proc.stderr
    assert {p: p.stat().st_mtime_ns for p in (work / "results").rglob("*")} == before


def test_outputs_follow_the_umask(tiny_run: Path) -> None:
    mask = os.umask(0)
    os.umask(mask)
    modes = {stat.S_IMODE(p.stat().st_mode) for p in (tiny_run / "results").rglob("*") if p.is_file()}
    assert modes == {0o666 & ~mask}


def test_rerun_removes_what_an_interrupted_write_left(tiny_run: Path, tmp_path: Path) -> None:
    work = _copy_run(tiny_run, tmp_path / "run")
    stale = [work / "results/figures/geometry/.hypersphere.k1ll3d00.tmp.png",
             work / "results/paths/digits/.ae-z2.k1ll3d00.tmp"]
    stale[0].write_bytes(b"")
    stale[1].mkdir()
    snakemake(work, "--configfile", "tiny.yaml", "--force", "results/figures/geometry",
              "results/paths/digits/ae-z2")
    assert not any(p.exists() for p in stale)
    assert verify(work).returncode == 0


# --------------------------------------------------------------------------- determinism and interruption


def test_sigterm_lets_the_running_job_finish_and_ends_with_one_line(tmp_path: Path) -> None:
    """SIGTERM to Snakemake while a job runs: the job completes, the run ends with the project's line saying so and
    that a rerun continues (not Snakemake's "At least one job did not complete successfully"), and a rerun does."""
    work = tiny_repo(tmp_path / "repo")
    target = "results/models/digits/ae-z2/meta.json"
    command = [*SNAKEMAKE, "--cores", "1", "--workflow-profile", "none", target, "--configfile", "tiny.yaml"]
    proc = subprocess.Popen(command, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONHASHSEED": "0"})
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not (work / "results/logs/train/digits/ae-z2.log").exists():
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode != 0
    last = err.strip().splitlines()[-1]
    assert last.startswith("latentwalk: stopped by SIGTERM (the running jobs finished first") and \
        last.endswith("run the same command again to continue"), err[-2000:]
    assert (work / target).exists()  # the running job finished
    rerun = snakemake(work, target, "--configfile", "tiny.yaml")
    assert "Nothing to be done" in rerun.stdout + rerun.stderr


def test_sigkill_during_training_then_recovery_gives_the_same_bytes_elsewhere(tiny_run: Path, tmp_path: Path) -> None:
    """A cold run in another directory (the tiny config's digits/vae-z2), killed (SIGKILL, whole process group) while
    training, then recovered with the documented command, ends byte-identical to the tiny run on every artifact of
    that run and of its dataset (logs, timings and the report aside)."""
    work = tiny_repo(tmp_path / "elsewhere" / "repo")
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    digits = ("--configfile", "tiny.yaml", "--config", "datasets=[digits]", "models=[vae]", "acai_benchmark={enabled: false}")
    command = [*SNAKEMAKE, "--cores", "2", "--workflow-profile", "none", *digits]
    proc = subprocess.Popen(command, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            start_new_session=True)
    deadline = time.monotonic() + 240
    logs = work / "results/logs/train"
    while time.monotonic() < deadline and not any("epoch" in p.read_text() for p in logs.rglob("*.log")):
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert any(logs.rglob("*.log")), "training never started"
    assert not (work / "results/manifest.tsv").exists()  # it was really interrupted
    snakemake(work, "--unlock", *digits)
    snakemake(work, "--rerun-incomplete", *digits)
    ours, reference = (_artifacts(w) for w in (work, tiny_run))
    shared = ("digits/vae-z2", "data/digits", "classifiers/digits")
    ours, reference = ({k: v for k, v in a.items() if any(s in k for s in shared)} for a in (ours, reference))
    assert sorted(ours) == sorted(reference) and len(ours) > 40
    assert [name for name in ours if ours[name] != reference[name]] == []
    assert verify(work).returncode == 0
