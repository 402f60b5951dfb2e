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
    images = np.zeros((n, size, size, 1), dtype=np.float32)
    for image, (r, c) in zip(images, rng.integers(0, size - 4, size=(n, 2))):
        image[r : r + 4, c : c + 4] = 1.0
    return images


@pytest.mark.parametrize("architecture", ["mlp", "conv", "acai_conv"])
def test_the_one_trainer_takes_the_same_path_on_cuda(architecture: str) -> None:
    """The same autograd loop on the GPU: its first step's gradients equal the CPU's in float64, and the trainer
    names the same code path (torch's fused Adam)."""
    from latentwalk.model.training import trainer_description

    torch.manual_seed(3)
    spec = ModelSpec("vae", 4, (8, 8), architecture=architecture, hidden=(16, 8), channels=(2, 3), conv_hidden=8,
                     depth=2)
    cpu = build_model(spec).double()
    gpu = build_model(spec).double().cuda()
    gpu.load_state_dict(cpu.state_dict())
    x, noise = torch.rand(10, 1, 8, 8, dtype=torch.float64), torch.randn(10, 4, dtype=torch.float64)
    for model, device in ((cpu, "cpu"), (gpu, "cuda")):
        loss, _, _ = loss_terms(model, x.to(device), noise.to(device), 0.5)
        loss.backward()
    for a, b in zip(cpu.parameters(), gpu.parameters()):
        torch.testing.assert_close(b.grad.cpu(), a.grad, rtol=1e-9, atol=1e-12)
    assert trainer_description(spec, torch.device("cuda")) == trainer_description(spec, torch.device("cpu"))


@pytest.mark.parametrize("architecture", ["mlp", "conv"])
def test_training_on_cuda_learns_and_repeats_itself(architecture: str) -> None:
    """Training on the GPU lowers the loss, hands back a CPU model, and the same seed gives the same history."""
    images = _images(size=16 if architecture == "conv" else 12)
    spec = ModelSpec("vae", 4, images.shape[1:3], architecture=architecture, hidden=(64,), likelihood="bernoulli")
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
