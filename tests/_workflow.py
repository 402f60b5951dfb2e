"""Shared workflow-test helpers: the tiny config, a copy of the repository, running Snakemake on it.

The copy holds the tracked workflow files only (Snakefile, workflow/, schemas,
report captions); the package itself is imported from the installed
(editable) checkout. The completed tiny run is one session fixture
(``tiny_run`` in conftest.py) shared by every workflow test module.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SNAKEMAKE = [sys.executable, "-m", "snakemake"]

TINY = {
    "seed": 7,
    "datasets": ["digits", "lines", "views"],
    "models": ["ae", "vae", "acai"],
    "latent_dims": [2],
    "data": {"lines": {"n": 240, "supersample": 2}, "views": {"n": 240, "size": 16, "supersample": 2, "reference_azimuths": 90, "channels": 3}},
    "model": {"hidden": [32]},
    "train": {"epochs": {"digits": 2, "lines": 2, "views": 2}, "batch_size": 64},
    "explorer": {"max_points": 150, "selftest_frames": 4, "overlays": ["lerp", "geodesic", "traverse_axis", "spiral"]},
    "figures": {"scatter_max_points": 100, "strip_pairs": 2, "sphere": {"dims": [3, 4], "steps": 200, "loops": 3, "uniform": 300}},
    "stats": {
        "norm_concentration": {"dims": [1, 10, 100], "n": 2000, "bins": 20},
        "hypersphere": {"n_max": 20},
        "classifier": {"hidden": 32, "max_iter": 30},
    },
    # the line benchmark at a token budget: 1 evaluation of 2 pairs per run, every model, one seed
    "acai_benchmark": {"enabled": True, "seeds": [1], "samples": 64, "eval_pairs": 2, "frames": 4, "median_of": 1},
    "paths": {
        "pairs": {"n": 3},
        "sphere_spiral": {"steps": 40, "loops": 2},
        # both metrics' geodesics (geodesic_variance: the geodesic's settings under the variance metric)
        "methods": ["lerp", "slerp", "lerp_matched", "prior_pairs", "traverse_axis", "traverse_pca", "attribute", "grid",
                    "spiral", "sphere_spiral", "geodesic", "geodesic_variance"],
        "geodesic": {"n_pairs": 2, "iterations": 20, "variance": {"centres": 8, "max_codes": 200}},
        "grid": {"n": 5},
        "spiral": {"steps": 12},
    },
}
#: The path methods each tiny run gets (spiral: d = 2; attribute: class labels; prior ones: VAEs).
TINY_METHODS = {
    "digits/ae-z2": ["lerp", "slerp", "lerp_matched", "traverse_axis", "traverse_pca", "attribute", "grid", "spiral", "geodesic",
                     "geodesic_variance"],
    "digits/vae-z2": ["lerp", "slerp", "lerp_matched", "prior_pairs", "traverse_axis", "traverse_pca", "attribute", "grid",
                      "spiral", "sphere_spiral", "geodesic", "geodesic_variance"],
    "lines/ae-z2": ["lerp", "slerp", "lerp_matched", "traverse_axis", "traverse_pca", "grid", "spiral", "geodesic",
                    "geodesic_variance"],
    "lines/vae-z2": ["lerp", "slerp", "lerp_matched", "prior_pairs", "traverse_axis", "traverse_pca", "grid", "spiral",
                     "sphere_spiral", "geodesic", "geodesic_variance"],
}
# views: object labels, so no attribute walks (like lines)
TINY_METHODS.update({run.replace("lines/", "views/"): methods for run, methods in list(TINY_METHODS.items()) if "lines/" in run})
# ACAI is not variational: the autoencoder's methods
TINY_METHODS.update({run.replace("/ae-", "/acai-"): methods for run, methods in list(TINY_METHODS.items()) if "/ae-" in run})

RUNS = [f"{d}/{m}-z2" for d in TINY["datasets"] for m in TINY["models"]]


def _copy_repo(dest: Path) -> Path:
    """Copy the files the workflow needs (not results, not the venv; the extra configs too) into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("Snakefile", "config.yaml", "pyproject.toml"):
        shutil.copy2(REPO / name, dest / name)
    shutil.copytree(REPO / "workflow", dest / "workflow", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copytree(REPO / "profiles", dest / "profiles")
    shutil.copytree(REPO / "config", dest / "config")
    return dest


def snakemake(workdir: Path, *args: str, check: bool = True, profile: bool = False) -> subprocess.CompletedProcess[str]:
    """Run Snakemake in ``workdir`` (without the default profile unless ``profile``); fail the test on error if ``check``."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [*SNAKEMAKE, "--cores", "2", *([] if profile else ["--workflow-profile", "none"]), *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}")
    return proc


def scheduled(proc: subprocess.CompletedProcess[str]) -> dict[str, int]:
    """Job counts per rule from a dry run's 'Job stats' table."""
    text = proc.stdout + proc.stderr
    counts: dict[str, int] = {}
    if "Job stats" not in text:
        return counts
    table = text.split("Job stats:", 1)[1]
    for line in table.splitlines()[3:]:
        match = re.match(r"^(\w+)\s+(\d+)$", line.strip())
        if not match:
            break
        if match.group(1) != "total":
            counts[match.group(1)] = int(match.group(2))
    return counts


def make_tiny_run(root: Path) -> Path:
    """A completed tiny run (with report) in a fresh copy of the repository."""
    work = tiny_repo(root)
    snakemake(work, "--configfile", "tiny.yaml")  # builds the report too (rule report)
    return work


def tiny_repo(root: Path) -> Path:
    """A copy of the repository whose experiment is the tiny config alone (plus schema defaults)."""
    import yaml

    work = _copy_repo(root)
    (work / "tiny.yaml").write_text(yaml.safe_dump(TINY))
    (work / "config.yaml").unlink()
    return work


