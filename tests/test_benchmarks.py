"""The benchmark suite's own arithmetic: what it counts as a training step's work (the suite itself is not run here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from latentwalk.model.networks import ModelSpec

BENCHMARKS = str(Path(__file__).resolve().parents[1] / "benchmarks")


@pytest.fixture(scope="module")
def bench_training():  # type: ignore[no-untyped-def]
    """benchmarks/bench_training.py, imported with benchmarks/ on the path only while it loads."""
    sys.path.insert(0, BENCHMARKS)
    try:
        import bench_training
    finally:
        sys.path.remove(BENCHMARKS)
    return bench_training


@pytest.mark.parametrize("hidden", [(400,), (32, 16)])
def test_a_step_of_an_mlp_vae_counts_its_matrix_products(bench_training, hidden: tuple[int, ...]) -> None:  # type: ignore[no-untyped-def]
    """An MLP VAE step is its linear layers' products: 2 B n_in n_out FLOPs each forward, as many for each weight
    gradient, and as many for each input gradient but the images' (the first layer's)."""
    batch, d = 4, 20
    spec = ModelSpec("vae", d, (28, 28), hidden=hidden)
    widths = [28 * 28, *hidden]
    layers = list(zip(widths, [*widths[1:], 2 * d])) + list(zip([d, *reversed(widths[1:])], list(reversed(widths))))
    forward = sum(2 * batch * a * b for a, b in layers)
    first = 2 * batch * layers[0][0] * layers[0][1]
    assert bench_training.step_flops(spec, batch_size=batch) == 3 * forward - first
