"""The compiled loops of latentwalk.kernels: built by the install, equal to their torch forms and to float64
references up to float32 rounding, and taken by the MLP trainer's step in float32."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from latentwalk import kernels

#: Tests of the compiled path itself; without the library only test_the_install_built_the_kernels fails (the rest
#: test the torch fallback through the same functions).
compiled = pytest.mark.skipif(not kernels.available(), reason="latentwalk._kernels not built (see the install test)")


def test_the_install_built_the_kernels() -> None:
    """README's `pip install -e .` compiles kernels.c (a C compiler is part of the setup); without it the trainer
    falls back to torch operations, which this test reports as a failed install rather than passing silently."""
    path = kernels.library_path()
    assert path is not None, "latentwalk/_kernels*.so is missing: rerun `pip install -c constraints.txt -e .` with a C compiler"
    assert kernels.available(), f"{path} did not load"


def _tail_inputs(rows: int, cols: int, scale: float, shift: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(rows, cols, generator=gen) * scale + shift
    x = torch.rand(rows, cols, generator=gen) * (torch.rand(rows, cols, generator=gen) > 0.3)
    return logits, x


@settings(max_examples=60, deadline=None)
@given(rows=st.integers(1, 9), cols=st.integers(1, 70), scale=st.floats(0.01, 60.0), shift=st.floats(-40.0, 40.0),
       seed=st.integers(0, 2**16))
def test_bernoulli_tail_equals_float64_bce_and_its_gradient(rows: int, cols: int, scale: float, shift: float,
                                                             seed: int) -> None:
    """Loss, logit gradient and its column sums against torch's float64 BCE with logits and autograd, for widths
    that leave every vector remainder (1..70 columns) and logits far into exp's saturation (|l| up to ~250)."""
    logits, x = _tail_inputs(rows, cols, scale, shift, seed)
    grad, colsum = torch.empty_like(logits), torch.empty(cols)
    bias = torch.linspace(-3.0, 3.0, cols)
    product = logits - bias  # the tail adds the bias back
    total = kernels.bernoulli_tail(product, bias, x, grad, colsum, 0.25)
    l64 = logits.double().requires_grad_()
    exact = F.binary_cross_entropy_with_logits(l64, x.double(), reduction="sum")
    (exact * 0.25).backward()
    assert total == pytest.approx(float(exact.detach()), rel=2e-6, abs=1e-4 * rows * cols)
    torch.testing.assert_close(grad.double(), l64.grad, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(colsum.double(), l64.grad.sum(0), rtol=1e-5, atol=1e-6)
    mine = torch.empty_like(grad), torch.empty_like(colsum)
    assert kernels.bernoulli_tail_torch(product, bias, x, *mine, 0.25) == pytest.approx(total, rel=2e-6, abs=1e-4 * rows * cols)
    torch.testing.assert_close(mine[0], grad, rtol=1e-5, atol=1e-7)


def test_bernoulli_tail_propagates_a_non_finite_logit() -> None:
    """A NaN or infinite logit makes the loss non-finite, so the trainer's per-epoch check stops the run."""
    logits, x = _tail_inputs(4, 33, 1.0, 0.0, 1)
    for bad in (float("nan"), float("inf")):
        broken = logits.clone()
        broken[2, 17] = bad
        total = kernels.bernoulli_tail(broken, torch.zeros(33), x, torch.empty_like(broken), torch.empty(33), 1.0)
        assert total != total or abs(total) == float("inf")


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 9), cols=st.integers(1, 70), seed=st.integers(0, 2**16))
def test_bias_relu_equals_torch_add_and_relu_exactly(rows: int, cols: int, seed: int) -> None:
    """One float32 addition and a max per number: the bytes of torch's ``add_(bias).relu_()``; a NaN stays NaN."""
    gen = torch.Generator().manual_seed(seed)
    h, bias = torch.randn(rows, cols, generator=gen), torch.randn(cols, generator=gen)
    h[0, 0] = float("nan")
    expected = (h + bias).relu_()
    kernels.bias_relu_(h, bias)
    assert torch.equal(h[~h.isnan()], expected[~expected.isnan()]) and h[0, 0].isnan() and expected[0, 0].isnan()


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 9), cols=st.integers(1, 70), seed=st.integers(0, 2**16))
def test_relu_backward_colsum_masks_exactly_and_sums_the_columns(rows: int, cols: int, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    out = torch.randn(rows, cols, generator=gen).relu_()  # a ReLU's output: zeros where it clipped
    grad = torch.randn(rows, cols, generator=gen)
    expected = torch.ops.aten.threshold_backward(grad, out, 0)
    colsum = torch.empty(cols)
    kernels.relu_backward_colsum_(grad, out, colsum)
    assert torch.equal(grad, expected)
    torch.testing.assert_close(colsum.double(), expected.double().sum(0), rtol=1e-6, atol=1e-6)
    again, sums = torch.randn(rows, cols, generator=gen), torch.empty(cols)
    reference = torch.ops.aten.threshold_backward(again, out, 0)
    kernels.relu_backward_colsum_torch_(again, out, sums)
    assert torch.equal(again, reference)


@settings(max_examples=40, deadline=None)
@given(rows=st.integers(1, 9), d=st.integers(1, 40), spread=st.floats(0.01, 12.0), kl_scale=st.floats(0.0, 3.0),
       seed=st.integers(0, 2**16))
def test_reparameterise_and_its_backward_equal_float64_autograd(rows: int, d: int, spread: float, kl_scale: float,
                                                               seed: int) -> None:
    """The head's bias added in place, z = mu + noise exp(logvar / 2), and the gradient of <dz, z> + kl_scale KL
    through it, against float64 autograd: dout, the head's bias gradient (its column sums) and twice the KL; the
    torch forms the same."""
    gen = torch.Generator().manual_seed(seed)
    head = torch.randn(rows, 2 * d, generator=gen) * spread
    bias = torch.randn(2 * d, generator=gen)
    out = head - bias
    noise, dz = torch.randn(rows, d, generator=gen), torch.randn(rows, d, generator=gen)
    std, z = torch.empty(rows, d), torch.empty(rows, d)
    product = out.clone()
    kernels.reparameterise(out, bias, noise, std, z)
    assert torch.equal(out, product + bias)  # one float32 addition per number, as torch's
    o64 = out.double().requires_grad_()
    mu, logvar = o64[:, :d], o64[:, d:]
    z64 = mu + noise.double() * torch.exp(0.5 * logvar)
    twice_kl = (mu.square() + logvar.exp() - 1.0 - logvar).sum()
    ((z64 * dz.double()).sum() + kl_scale * 0.5 * twice_kl).backward()
    torch.testing.assert_close(std.double(), torch.exp(0.5 * logvar.detach()), rtol=1e-6, atol=0.0)
    torch.testing.assert_close(z.double(), z64.detach(), rtol=1e-5, atol=1e-5)
    dout, colsum = torch.empty(rows, 2 * d), torch.empty(2 * d)
    total = kernels.reparameterise_backward(dz, out, noise, std, dout, colsum, kl_scale)
    assert total == pytest.approx(float(twice_kl.detach()), rel=1e-5, abs=1e-4 * rows * d)
    torch.testing.assert_close(dout.double(), o64.grad, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(colsum.double(), o64.grad.sum(0), rtol=1e-5, atol=1e-4)
    std2, z2, dout2, colsum2 = torch.empty_like(std), torch.empty_like(z), torch.empty_like(dout), torch.empty_like(colsum)
    kernels.reparameterise_torch(product, bias, noise, std2, z2)
    assert torch.equal(product, out)
    torch.testing.assert_close(z2, z, rtol=1e-5, atol=1e-6)
    assert kernels.reparameterise_backward_torch(dz, out, noise, std2, dout2, colsum2, kl_scale) == pytest.approx(
        total, rel=1e-5, abs=1e-4 * rows * d)
    torch.testing.assert_close(dout2, dout, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: kernels.bernoulli_tail(torch.zeros(2, 3, dtype=torch.float64), torch.zeros(3), torch.zeros(2, 3),
                                        torch.zeros(2, 3), torch.zeros(3), 1.0), "torch.float64"),
        (lambda: kernels.bernoulli_tail(torch.zeros(3, 2).t(), torch.zeros(3), torch.zeros(2, 3), torch.zeros(2, 3),
                                        torch.zeros(3), 1.0), "strides (1, 2)"),
        (lambda: kernels.bias_relu_(torch.zeros(2, 3), torch.zeros(2)), "shape (2,)"),
        (lambda: kernels.relu_backward_colsum_(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(4)), "shape (4,)"),
        (lambda: kernels.reparameterise(torch.zeros(2, 5), torch.zeros(4), torch.zeros(2, 2), torch.zeros(2, 2),
                                        torch.zeros(2, 2)), "shape (2, 5)"),
    ],
)
def test_the_loops_refuse_what_they_cannot_read(call, message: str) -> None:
    """Wrong dtype, layout or size is a ValueError naming it, never a read past a buffer."""
    with pytest.raises(ValueError, match=r"contiguous float32 CPU tensors") as info:
        call()
    assert message in str(info.value)


@compiled
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_the_float32_step_takes_the_kernels_and_matches_autograd(kind: str, likelihood: str) -> None:
    """In float32 the MLP step runs the fused loops (VAE: the latent side, Bernoulli: the loss end too); its loss terms
    and gradients match float64 autograd to float32 rounding, and the torch-operation step on the same model."""
    from latentwalk.mlp_step import MLPStep
    from latentwalk.models import ModelSpec, build_model, loss_terms

    torch.manual_seed(7)
    spec = ModelSpec(kind, 4, (8, 8), hidden=(24, 16), likelihood=likelihood, gaussian_sigma=0.3)
    model = build_model(spec)
    x = torch.rand(12, 8, 8)
    noise = torch.randn(12, 4) if spec.variational else None
    reference = build_model(spec).double()
    reference.load_state_dict(model.state_dict())
    loss, recon, kl = loss_terms(reference, x.double(), None if noise is None else noise.double(), 0.5)
    loss.backward()
    step = MLPStep(model)
    assert step.fused
    mine = step(x.reshape(12, -1), noise, 0.5)
    for ours, theirs in zip(mine, (loss, recon, kl)):
        assert float(ours) == pytest.approx(float(theirs.detach()), rel=1e-5, abs=1e-6)
    fused = [p.grad.clone() for p in step.params]
    for p, grad in zip(step.params, (q.grad for q in reference.parameters())):
        torch.testing.assert_close(p.grad.double(), grad, rtol=1e-4, atol=1e-6)
    step.fused = False
    step(x.reshape(12, -1), noise, 0.5)
    for p, grad in zip(step.params, fused):
        torch.testing.assert_close(p.grad, grad, rtol=1e-5, atol=1e-7)


@compiled
def test_the_trainer_says_which_step_it_runs() -> None:
    """The job log and meta.json name the step: the compiled loops for MLPs on the CPU, torch operations on CUDA,
    autograd for the conv architecture and the two-player ACAI."""
    import numpy as np

    from latentwalk.models import ModelSpec
    from latentwalk.training import TrainConfig, train_model, trainer_description

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    mlp = ModelSpec("vae", 2, (8, 8), hidden=(16,))
    assert trainer_description(mlp, cpu) == "written-out MLP step with compiled loops (latentwalk._kernels), fused Adam"
    assert trainer_description(mlp, cuda) == "written-out MLP step with torch operations, fused Adam"
    assert trainer_description(ModelSpec("acai", 2, (8, 8), hidden=(16,)), cpu).startswith("autograd, two players")
    lines: list[str] = []
    train_model(mlp, TrainConfig(epochs=1, batch_size=8, seed=0, device="cpu", threads=1),
                np.random.default_rng(0).random((16, 8, 8), dtype=np.float32), lines.append)
    assert lines[0].endswith(": written-out MLP step with compiled loops (latentwalk._kernels), fused Adam")
