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


def test_the_reference_loop_and_ours_train_on_images_as_the_suite_stores_them(bench_training) -> None:  # type: ignore[no-untyped-def]
    """The suite's images are (N, 28, 28, 1) like every dataset's: both loops take them and report a finite loss."""
    import numpy as np

    images = np.random.default_rng(0).random((64, 28, 28, 1)).astype(np.float32)
    spec = ModelSpec("vae", 4, (28, 28), hidden=(16,))
    for seconds, loss in (bench_training.reference_loop(spec, images, 1, 32), bench_training.ours(spec, images, 1, 32)):
        assert seconds > 0 and np.isfinite(loss) and 0 < loss < 28 * 28 * 1.0
