"""The workflow on a real SLURM: a single-node slurmctld + slurmd started by the test (tests/cluster/slurm.sh), the
tiny config submitted through `--profile profiles/slurm` (Snakemake's official SLURM executor plugin), and the
artifacts compared byte for byte with the local tiny run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from _workflow import SNAKEMAKE, snakemake, tiny_repo

pytestmark = pytest.mark.workflow

SCRIPT = Path(__file__).resolve().parent / "cluster" / "slurm.sh"
#: Under results/, what may differ between two runs: logs, timings, the report and its job record.
VOLATILE = ("logs", "benchmarks", "report.html", "provenance/report.json")


def _why_no_slurm() -> str | None:
    if os.geteuid() != 0:
        return "starting slurmctld/slurmd needs root"
    if shutil.which("sbatch") is None and shutil.which("apt-get") is None:
        return "SLURM is not installed and apt-get is not available to install it (Debian packages slurmctld slurmd)"
    return None


@pytest.fixture(scope="module")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A running single-node SLURM (stopped afterwards if this fixture started it)."""
    reason = _why_no_slurm()
    if reason:
        pytest.skip(reason)
    state = tmp_path_factory.mktemp("slurm")
    started = subprocess.run(["bash", str(SCRIPT), "start", str(state)], capture_output=True, text=True, timeout=900)
    if started.returncode != 0:
        pytest.skip(f"could not start SLURM here: {(started.stderr or started.stdout).strip().splitlines()[-1:]}")
    yield state
    subprocess.run(["bash", str(SCRIPT), "stop", str(state)], capture_output=True, timeout=60)


def _artifacts(workdir: Path) -> dict[str, bytes]:
    root = workdir / "results"
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] not in VOLATILE and str(p.relative_to(root)) not in VOLATILE}


#: The reduced sweep (config/sweeps/reduced.yaml: 8 digits runs, two beta-VAE KL weights) on the tests' tiny settings.
SWEEP = ("--configfile", "tiny.yaml", "config/sweeps/reduced.yaml")


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reduced sweep, run on this machine without SLURM: the reference for the SLURM run's bytes."""
    work = tiny_repo(tmp_path_factory.mktemp("local_sweep"))
    snakemake(work, *SWEEP)
    return work


def test_reduced_sweep_through_slurm_matches_the_local_run(slurm: Path, local_sweep: Path, tmp_path: Path) -> None:
    work = tiny_repo(tmp_path / "repo")
    proc = subprocess.run([*SNAKEMAKE, "--profile", "profiles/slurm", *SWEEP], cwd=work,
                          capture_output=True, text=True, timeout=1800, env={**os.environ, "PYTHONHASHSEED": "0"})
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    ids = re.findall(r"has been submitted with SLURM jobid (\d+)", out)
    assert len(ids) >= 20, out[-3000:]  # groups bundle the small jobs; training and encoding go one by one
    states = dict(line.split() for line in subprocess.run(["squeue", "-t", "all", "-h", "-o", "%i %T"],
                                                          capture_output=True, text=True, check=True).stdout.splitlines())
    assert {states.get(i) for i in ids} == {"COMPLETED"}, {i: states.get(i) for i in ids}
    assert re.search(r"localrule (manifest|report):", out)  # bookkeeping stays on the submitting machine
    ours, local = _artifacts(work), _artifacts(local_sweep)
    assert sorted(ours) == sorted(local)
    assert [name for name in ours if ours[name] != local[name]] == []
    runs = (work / "results" / "stats" / "runs.csv").read_text().splitlines()
    models = sorted({line.split(",")[1] for line in runs[1:]})
    assert models == ["ae", "beta_vae-b2", "beta_vae-b8", "vae"] and len(runs) == 1 + 8


def test_training_asks_slurm_for_a_gpu_when_the_config_says_cuda(slurm: Path, tmp_path: Path) -> None:
    """device: cuda makes the training job request a GPU (`--gpus=1`); the test node's one fake GPU accepts it, and
    the job, finding no CUDA device, fails with its one-line error (a GPU-less machine cannot do more)."""
    work = tiny_repo(tmp_path / "repo")
    target = "results/models/digits/ae-z2/model.pt"
    proc = subprocess.run([*SNAKEMAKE, "--profile", "profiles/slurm", "--configfile", "tiny.yaml", "--config", "device=cuda",
                           "--retries", "0", target], cwd=work, capture_output=True, text=True, timeout=900)
    out = proc.stdout + proc.stderr
    job = re.search(r"Job \d+ has been submitted with SLURM jobid (\d+)[^\n]*rule_train", out)
    assert job, out[-4000:]
    shown = subprocess.run(["scontrol", "show", "job", job.group(1)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"TresPerJob=gres(/|:)gpu:1", shown), shown
    import torch

    if not torch.cuda.is_available():
        assert proc.returncode != 0
        slurm_log = re.search(r"rule_train[^ )]*/(\d+)\.log", out)
        logs = "".join(p.read_text() for p in (work / "results/logs/train").rglob("*.log"))
        assert "config key device: 'cuda' requested but torch sees no CUDA device" in logs, (slurm_log, logs[-2000:])


def test_gpu_profile_gives_training_a_gpu_and_auto_uses_what_the_node_has(slurm: Path, tmp_path: Path) -> None:
    """profiles/slurm-gpu asks for a GPU for every training job; with `device: auto` the job trains on CUDA where the
    node has it, else on the CPU (this machine's fake GPU is /dev/null), and meta.json records which."""
    work = tiny_repo(tmp_path / "repo")
    target = "results/models/digits/vae-z2/meta.json"
    proc = subprocess.run([*SNAKEMAKE, target, "--profile", "profiles/slurm-gpu", "--configfile", "tiny.yaml"], cwd=work,
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
