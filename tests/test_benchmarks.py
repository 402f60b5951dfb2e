"""The benchmark suite's own arithmetic: what it counts as a training step's work (the suite itself is not run here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from bench_training import conv_products, step_flops  # noqa: E402

from latentwalk.models import ModelSpec  # noqa: E402


@pytest.mark.parametrize("spec", [
    ModelSpec("vae", 20, (28, 28), architecture="conv", likelihood="bernoulli"),
    ModelSpec("ae", 4, (12, 8), architecture="conv", channels=(3, 5), conv_hidden=7),
    ModelSpec("vae", 16, (16, 16), architecture="acai_conv", depth=4),
    ModelSpec("vae", 20, (28, 28), hidden=(400,)),
], ids=["conv28", "conv-small", "acai_conv", "mlp"])
def test_the_floor_runs_the_step_flops_as_matrix_products(spec: ModelSpec) -> None:
    """conv_floor's products (forward, weight gradients, every input gradient but the images') are exactly the FLOPs
    torch's counter finds in a training step, the conv decoder's last layer (torch's own transposed-convolution
    kernel, for which the counter is given a formula) included."""
    products = conv_products(spec, batch_size=4)
    assert products[0][3] and not any(first for *_, first in products[1:])
    flops = sum(2 * m * k * n * (2 if first else 3) for m, k, n, first in products)
    assert flops == step_flops(spec, batch_size=4)
    if spec.architecture == "conv":
        h, w = spec.image_shape
        c1, c2 = spec.channels
        assert products[1] == (4 * (h // 4) * (w // 4), c1 * 16, c2, False)  # the second convolution, im2col'd
        assert products[-1] == (4 * (h // 2) * (w // 2), 16, c1, False)  # the transposed one to pixels, adjoint form
