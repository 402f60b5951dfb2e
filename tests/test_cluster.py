"""The workflow on a real SLURM: a single-node slurmctld + slurmd started by the test (tests/cluster/slurm.sh), the
reduced sweep submitted through `--profile profiles/slurm` (Snakemake's official SLURM executor plugin), and the
artifacts of the runs it shares with the local tiny run compared byte for byte."""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from _workflow import SNAKEMAKE, tiny_repo

pytestmark = pytest.mark.workflow

#: The profile's first status check comes 5 s after a submission and the SLURM plugin adds 10 s to the wait after
#: every check that finds nothing finished (up to 3 minutes); the tests' jobs take seconds, so they check after 1 s.
FAST_CHECKS = ("--slurm-init-seconds-before-status-checks", "1")
#: Under results/, what may differ between two runs: logs, timings, the report and its job record.
VOLATILE = ("logs", "benchmarks", "report.html", "provenance/report.json")


@pytest.fixture(scope="module")
def cluster(slurm: Path | str) -> Path:
    """The session's SLURM (conftest.slurm); the cluster tests skip, with the reason, where there is none."""
    if isinstance(slurm, str):
        pytest.skip(slurm)
    return slurm


def _artifacts(workdir: Path) -> dict[str, bytes]:
    root = workdir / "results"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] not in VOLATILE and str(p.relative_to(root)) not in VOLATILE}


#: The reduced sweep (config/sweeps/reduced.yaml: 3 digits runs, KL weights 1, 2 and 8) on the tests' tiny settings
#: (without the tiny run's line benchmark, which has nothing to do with the sweep).
SWEEP = ("--configfile", "tiny.yaml", "config/sweeps/reduced.yaml", "--config", "acai_benchmark={enabled: false}")


def test_reduced_sweep_through_slurm_matches_the_local_run(cluster: Path, tiny_run: Path, tmp_path: Path) -> None:
    """The reduced sweep through SLURM: every job completes on the cluster, bookkeeping stays on the submitting
    machine, and the run it shares with the local tiny run (digits vae-z2: same settings) and its dataset are the
    local run's bytes."""
    work = tiny_repo(tmp_path / "repo")
    proc = subprocess.run([*SNAKEMAKE, "--profile", "profiles/slurm", *FAST_CHECKS, *SWEEP], cwd=work,
                          capture_output=True, text=True, timeout=1800, env={**os.environ, "PYTHONHASHSEED": "0"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    ids = re.findall(r"has been submitted with SLURM jobid (\d+)", out)
    assert len(ids) >= 10, out[-3000:]  # groups bundle the small jobs; training and encoding go one by one
    states = dict(line.split() for line in subprocess.run(["squeue", "-t", "all", "-h", "-o", "%i %T"],
                                                          capture_output=True, text=True, check=True).stdout.splitlines())
    assert {states.get(i) for i in ids} == {"COMPLETED"}, {i: states.get(i) for i in ids}
    assert re.search(r"localrule (manifest|report):", out)  # bookkeeping stays on the submitting machine
    shared = ("digits/vae-z2", "data/digits", "classifiers/digits")
    ours, local = ({k: v for k, v in _artifacts(w).items() if any(s in k for s in shared)} for w in (work, tiny_run))
    assert sorted(ours) == sorted(local) and len(ours) > 25
    assert [name for name in ours if ours[name] != local[name]] == []
    runs = (work / "results" / "stats" / "runs.csv").read_text().splitlines()
    models = sorted({line.split(",")[1] for line in runs[1:]})
    assert models == ["beta_vae-b2", "beta_vae-b8", "vae"] and len(runs) == 1 + 3


def _with_data(work: Path, tiny_run: Path) -> Path:
    """``work`` with the tiny run's datasets in place (their job need not run again through SLURM)."""
    shutil.copytree(tiny_run / "results" / "data", work / "results" / "data")
    return work


def test_training_asks_slurm_for_a_gpu_when_the_config_says_cuda(cluster: Path, tiny_run: Path, tmp_path: Path) -> None:
    """device: cuda makes the training job request a GPU (`--gpus=1`); the test node's one fake GPU accepts it, and
    the job, finding no CUDA device, fails with its one-line error (a GPU-less machine cannot do more). The test
    kills Snakemake once the job's log holds that error and cancels what it left queued (its retry would only repeat
    the error; a graceful stop would wait for the SLURM plugin's next status check, up to half a minute later)."""
    import torch

    work = _with_data(tiny_repo(tmp_path / "repo"), tiny_run)
    target = "results/models/digits/ae-z2/model.pt"
    output = tmp_path / "snakemake.out"
    with open(output, "w") as sink:
        proc = subprocess.Popen([*SNAKEMAKE, target, "--profile", "profiles/slurm", *FAST_CHECKS, "--configfile",
                                 "tiny.yaml", "--config", "device=cuda"], cwd=work, stdout=sink, stderr=subprocess.STDOUT)
    log = work / "results/logs/train/digits/ae-z2.log"
    error = "config key device: 'cuda' requested but torch sees no CUDA device"
    deadline, seen = time.monotonic() + 300, ""  # the log as last read: Snakemake deletes it before the retry
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(FileNotFoundError):
                seen = log.read_text()
            if torch.cuda.is_available() or error in seen:
                break
            time.sleep(0.5)
    finally:
        proc.kill()
        proc.wait(timeout=120)
        subprocess.run(["scancel", "--user", getpass.getuser()], check=False)  # the session's own test cluster
    out = output.read_text()
    job = re.search(r"Job \d+ has been submitted with SLURM jobid (\d+)[^\n]*rule_train", out)
    assert job, out[-4000:]
    shown = subprocess.run(["scontrol", "show", "job", job.group(1)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"TresPerJob=gres(/|:)gpu:1", shown), shown
    if not torch.cuda.is_available():
        assert error in seen, (out[-2000:], seen[-2000:])


def test_gpu_profile_gives_training_a_gpu_and_auto_uses_what_the_node_has(cluster: Path, tiny_run: Path,
                                                                        tmp_path: Path) -> None:
    """profiles/slurm-gpu asks for a GPU for every training job; with `device: auto` the job trains on CUDA where the
    node has it, else on the CPU (this machine's fake GPU is /dev/null), and meta.json records which."""
    work = _with_data(tiny_repo(tmp_path / "repo"), tiny_run)
    target = "results/models/digits/vae-z2/meta.json"
    proc = subprocess.run([*SNAKEMAKE, target, "--profile", "profiles/slurm-gpu", *FAST_CHECKS, "--configfile", "tiny.yaml"],
                          cwd=work,
                          capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    job = re.search(r"Job \d+ has been submitted with SLURM jobid (\d+)[^\n]*rule_train", out)
    assert job, out[-4000:]
    shown = subprocess.run(["scontrol", "show", "job", job.group(1)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"TresPerJob=gres(/|:)gpu:1", shown), shown
    import json

    import torch

    meta = json.loads((work / target).read_text())
    assert meta["device_used"] == ("cuda" if torch.cuda.is_available() else "cpu")


def test_gpu_profile_is_the_slurm_profile_plus_a_gpu_for_training() -> None:
    import yaml

    profiles = Path(__file__).resolve().parents[1] / "profiles"
    plain = yaml.safe_load((profiles / "slurm" / "config.yaml").read_text())
    gpu = yaml.safe_load((profiles / "slurm-gpu" / "config.yaml").read_text())
    assert gpu.pop("set-resources") == {"train": {"gpu": 1}}
    assert gpu == plain
