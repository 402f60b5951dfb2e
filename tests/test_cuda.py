"""The training and encoding paths on a CUDA device. Skipped where torch sees none (CI has none); run on a GPU
machine with ``pytest tests/test_cuda.py``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from latentwalk.model.encode import encode_images
from latentwalk.model.networks import ModelSpec, build_model, loss_terms
from latentwalk.model.training import TrainConfig, train_model

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="torch sees no CUDA device")


def _images(n: int = 512, size: int = 12, seed: int = 0) -> np.ndarray:
    """Bright squares at random places: easy to reconstruct, so the loss must fall."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, size, size), dtype=np.float32)
    for image, (r, c) in zip(images, rng.integers(0, size - 4, size=(n, 2))):
        image[r : r + 4, c : c + 4] = 1.0
    return images


@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_mlp_step_equals_autograd_on_cuda(likelihood: str) -> None:
    """The written-out backward pass gives autograd's gradients on the GPU too (float64)."""
    from latentwalk.mlp_step import MLPStep  # UNRESOLVED

    torch.manual_seed(3)
    spec = ModelSpec("vae", 3, (8, 8), hidden=(16, 8), likelihood=likelihood, gaussian_sigma=0.3)
    model = build_model(spec).double().cuda()
    x = torch.rand(10, 8, 8, dtype=torch.float64, device="cuda")
    noise = torch.randn(10, 3, dtype=torch.float64, device="cuda")
    loss, _, _ = loss_terms(model, x, noise, 0.5)
    loss.backward()
    expected = [p.grad.clone() for p in model.parameters()]
    mine, _, _ = MLPStep(model)(x.reshape(10, -1), noise, 0.5)
    assert float(mine) == pytest.approx(float(loss.detach()), rel=1e-12)
    for p, grad in zip(model.parameters(), expected):
        torch.testing.assert_close(p.grad, grad, rtol=1e-10, atol=1e-12)


def test_fused_adam_matches_torch_adam_on_cuda() -> None:
    from latentwalk.mlp_step import FusedAdam  # UNRESOLVED

    torch.manual_seed(5)
    a = [torch.randn(7, 5, device="cuda"), torch.randn(5, device="cuda")]
    b = [t.clone() for t in a]
    for t in a:
        t.grad = torch.zeros_like(t)  # FusedAdam holds the .grad tensors, which the step fills in place
    ours, theirs = FusedAdam(a, 1e-2), torch.optim.Adam(b, lr=1e-2, fused=True)
    for _ in range(5):
        grads = [torch.randn_like(t) for t in a]
        for t, u, g in zip(a, b, grads):
            t.grad.copy_(g)
            u.grad = g.clone()
        ours.step()
        theirs.step()
    for x, y in zip(a, b):
        torch.testing.assert_close(x, y, rtol=0, atol=1e-7)


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_training_on_cuda_learns_and_repeats_itself(architecture: str) -> None:
    """Training on the GPU lowers the loss, hands back a CPU model, and the same seed gives the same history."""
    images = _images(size=16 if architecture == "conv" else 12)
    spec = ModelSpec("vae", 4, images.shape[1:], architecture=architecture, hidden=(64,), likelihood="bernoulli")
    cfg = TrainConfig(epochs=4, batch_size=64, seed=11, device="cuda", kl_warmup_epochs=0)
    model, history = train_model(spec, cfg, images)
    assert next(model.parameters()).device.type == "cpu"
    assert history[-1]["loss"] < 0.8 * history[0]["loss"], history
    _, again = train_model(spec, cfg, images)
    assert [row["loss"] for row in again] == [row["loss"] for row in history]


def test_encoding_on_cuda_matches_cpu() -> None:
    torch.manual_seed(2)
    model = build_model(ModelSpec("vae", 3, (12, 12), hidden=(32,))).eval()
    images = _images()
    mu_cpu, logvar_cpu = encode_images(model, images, batch_size=100)
    mu_gpu, logvar_gpu = encode_images(model.cuda(), images, batch_size=100, device="cuda")
    np.testing.assert_allclose(mu_gpu, mu_cpu, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(logvar_gpu, logvar_cpu, rtol=1e-4, atol=1e-5)
