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


@pytest.mark.parametrize("spec", [
    ModelSpec("vae", 20, (28, 28), architecture="conv", likelihood="bernoulli"),
    ModelSpec("ae", 4, (12, 8), architecture="conv", channels=(3, 5), conv_hidden=7),
    ModelSpec("vae", 16, (16, 16), architecture="acai_conv", depth=4),
    ModelSpec("vae", 20, (28, 28), hidden=(400,)),
], ids=["conv28", "conv-small", "acai_conv", "mlp"])
def test_the_floor_runs_the_step_flops_as_matrix_products(bench_training, spec: ModelSpec) -> None:  # type: ignore[no-untyped-def]
    """conv_floor's products (forward, weight gradients, every input gradient but the images') are exactly the FLOPs
    torch's counter finds in a training step, the conv decoder's last layer (torch's own transposed-convolution
    kernel, for which the counter is given a formula) included; both layouts of each compute the same product."""
    products = bench_training.conv_products(spec, batch_size=4)
    assert products[0][3] and not any(first for *_, first in products[1:])
    layouts = bench_training.product_layouts(spec, batch_size=4)
    assert sum(flops for flops, _ in layouts) == bench_training.step_flops(spec, batch_size=4)
    assert len(layouts) == 3 * len(products) - 1
    for _, (one, other) in layouts:
        a, b = one(), other()
        same = (a.shape == b.shape and bool((a - b).abs().max() <= 1e-3 * a.abs().max())) or \
            (a.shape == b.t().shape and bool((a - b.t()).abs().max() <= 1e-3 * a.abs().max()))
        assert same
    if spec.architecture == "conv":
        h, w = spec.image_shape
        c1, c2 = spec.channels
        assert products[1] == (4 * (h // 4) * (w // 4), c1 * 16, c2, False)  # the second convolution, im2col'd
        assert products[-1] == (4 * (h // 2) * (w // 2), 16, c1, False)  # the transposed one to pixels, adjoint form
