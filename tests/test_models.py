"""Tests for latentwalk.model.networks: shapes, losses, KL, ModelSpec validation and serialisation."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pytest
import torch
from _helpers import one_line as _one_line
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn import functional as F

from latentwalk.core.io import LatentwalkError
from latentwalk.model.networks import (
    LatentAutoencoder,
    ModelSpec,
    build_model,
    kl_divergence,
    loss_terms,
    reconstruction_loss,
)

KINDS = ("ae", "vae", "beta_vae")


def _spec(kind: str = "vae", dim: int = 3, shape: tuple[int, int] = (8, 8), architecture: str = "mlp", **kw) -> ModelSpec:
    if architecture == "mlp":
        kw.setdefault("hidden", (32,))
    else:
        kw.setdefault("channels", (4, 8))
        kw.setdefault("conv_hidden", 16)
    return ModelSpec(kind=kind, latent_dim=dim, image_shape=shape, architecture=architecture, **kw)


# --------------------------------------------------------------------------- shapes


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    ("architecture", "shape"),
    [("mlp", (1, 8, 8)), ("mlp", (3, 5, 7)), ("conv", (1, 8, 8)), ("conv", (1, 28, 28)), ("conv", (3, 32, 32)),
     ("conv", (3, 12, 8))],
)
def test_encoder_decoder_shapes(kind: str, architecture: str, shape: tuple[int, int, int]) -> None:
    """Images (B, C, H, W) in, latents out, pixel logits (B, C, H, W) back, grey and RGB alike."""
    torch.manual_seed(0)
    dim = 3
    model = build_model(_spec(kind, dim, shape, architecture))
    assert isinstance(model, LatentAutoencoder)
    x = torch.rand(5, *shape)
    mu, logvar = model.encode(x)
    assert mu.shape == (5, dim)
    if kind == "ae":
        assert logvar is None
    else:
        assert logvar is not None and logvar.shape == (5, dim)
    z = torch.randn(5, dim)
    assert model.decode_logits(z).shape == (5, *shape)
    assert model.decode(z).shape == (5, *shape)
    logits, mu2, logvar2 = model(x, torch.randn(5, dim))
    assert logits.shape == (5, *shape)
    assert torch.equal(mu2, mu)
    assert (logvar2 is None) == (kind == "ae")


@pytest.mark.parametrize("kind", KINDS)
def test_forward_without_noise_decodes_the_mean(kind: str) -> None:
    torch.manual_seed(1)
    model = build_model(_spec(kind))
    x = torch.rand(4, 1, 8, 8)
    logits, mu, _ = model(x, None)
    assert torch.equal(logits, model.decode_logits(mu))


def test_forward_reparameterisation_is_mu_plus_noise_times_std() -> None:
    torch.manual_seed(2)
    model = build_model(_spec("vae"))
    x = torch.rand(4, 1, 8, 8)
    noise = torch.randn(4, 3)
    logits, mu, logvar = model(x, noise)
    expected = model.decode_logits(mu + noise * torch.exp(0.5 * logvar))
    assert torch.allclose(logits, expected, atol=1e-6)


def test_ae_ignores_noise() -> None:
    torch.manual_seed(3)
    model = build_model(_spec("ae"))
    x = torch.rand(4, 1, 8, 8)
    a, _, _ = model(x, torch.randn(4, 3) * 100)
    b, _, _ = model(x, None)
    assert torch.equal(a, b)


@settings(max_examples=25, deadline=None)
@given(
    scale=st.floats(0.0, 1e4, allow_nan=False),
    seed=st.integers(0, 2**16),
    architecture=st.sampled_from(["mlp", "conv"]),
)
def test_decode_is_in_unit_interval(scale: float, seed: int, architecture: str) -> None:
    torch.manual_seed(seed)
    model = build_model(_spec("vae", 2, (8, 8), architecture))
    z = torch.randn(6, 2) * scale
    out = model.decode(z)
    assert torch.isfinite(out).all()
    assert (out >= 0).all() and (out <= 1).all()
    assert torch.equal(out, torch.sigmoid(model.decode_logits(z)))


# --------------------------------------------------------------------------- KL


def test_kl_zero_at_standard_normal() -> None:
    mu = torch.zeros(4, 5)
    logvar = torch.zeros(4, 5)
    kl = kl_divergence(mu, logvar)
    assert kl.shape == (4,)
    assert torch.equal(kl, torch.zeros(4))


def test_kl_hand_computed() -> None:
    # KL = 0.5 * sum(mu^2 + exp(logvar) - 1 - logvar)
    mu = torch.tensor([[1.0, 2.0], [0.0, -3.0]], dtype=torch.float64)
    logvar = torch.tensor([[0.0, math.log(4.0)], [math.log(0.5), 0.0]], dtype=torch.float64)
    expected = torch.tensor(
        [
            0.5 * ((1 + 1 - 1 - 0) + (4 + 4 - 1 - math.log(4.0))),
            0.5 * ((0 + 0.5 - 1 - math.log(0.5)) + (9 + 1 - 1 - 0)),
        ],
        dtype=torch.float64,
    )
    assert torch.allclose(kl_divergence(mu, logvar), expected, rtol=0, atol=1e-12)


def test_kl_single_value() -> None:
    # mu=1, logvar=0 in one dimension: KL = 0.5
    assert kl_divergence(torch.tensor([[1.0]]), torch.tensor([[0.0]])).item() == 0.5


def test_kl_is_zero_vector_for_ae() -> None:
    mu = torch.randn(7, 3)
    kl = kl_divergence(mu, None)
    assert kl.shape == (7,)
    assert kl.dtype == mu.dtype
    assert torch.equal(kl, torch.zeros(7))


@settings(max_examples=50, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.floats(-5, 5), st.floats(-5, 5)), min_size=1, max_size=6
    )
)
def test_kl_matches_torch_distributions(data: list[tuple[float, float]]) -> None:
    mu = torch.tensor([[m for m, _ in data]], dtype=torch.float64)
    logvar = torch.tensor([[lv for _, lv in data]], dtype=torch.float64)
    ours = kl_divergence(mu, logvar)
    q = torch.distributions.Normal(mu, torch.exp(0.5 * logvar))
    p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(mu))
    ref = torch.distributions.kl_divergence(q, p).sum(dim=1)
    assert torch.allclose(ours, ref, rtol=1e-10, atol=1e-10)
    assert (ours >= -1e-12).all()


# --------------------------------------------------------------------------- reconstruction


def test_bernoulli_reconstruction_matches_bce_by_hand() -> None:
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 4, 5, generator=g, dtype=torch.float64)
    x = torch.rand(3, 4, 5, generator=g, dtype=torch.float64)
    out = reconstruction_loss(logits, x, "bernoulli")
    assert out.shape == (3,)
    p = torch.sigmoid(logits)
    by_hand = -(x * torch.log(p) + (1 - x) * torch.log(1 - p)).flatten(1).sum(dim=1)
    assert torch.allclose(out, by_hand, rtol=1e-10, atol=1e-10)
    bce = F.binary_cross_entropy(p, x, reduction="none").flatten(1).sum(dim=1)
    assert torch.allclose(out, bce, rtol=1e-10, atol=1e-10)


def test_bernoulli_reconstruction_is_stable_for_extreme_logits() -> None:
    logits = torch.tensor([[[200.0, -200.0]]])
    x = torch.tensor([[[1.0, 0.0]]])
    out = reconstruction_loss(logits, x, "bernoulli")
    assert torch.isfinite(out).all()
    assert out.item() == pytest.approx(0.0, abs=1e-6)
    wrong = reconstruction_loss(logits, 1 - x, "bernoulli")
    assert wrong.item() == pytest.approx(400.0, rel=1e-6)


@pytest.mark.parametrize("sigma", [0.1, 0.5, 1.0])
def test_gaussian_reconstruction_is_half_se_over_sigma_squared(sigma: float) -> None:
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 4, 5, generator=g, dtype=torch.float64)
    x = torch.rand(3, 4, 5, generator=g, dtype=torch.float64)
    out = reconstruction_loss(logits, x, "gaussian", sigma)
    expected = (0.5 * (torch.sigmoid(logits) - x) ** 2 / sigma**2).flatten(1).sum(dim=1)
    assert out.shape == (3,)
    assert torch.allclose(out, expected, rtol=1e-12, atol=1e-12)


def test_gaussian_reconstruction_hand_value() -> None:
    # sigmoid(0) = 0.5; x = 0 -> 0.5 * 0.25 / 0.01 = 12.5 per pixel; 2 pixels -> 25
    out = reconstruction_loss(torch.zeros(1, 1, 2), torch.zeros(1, 1, 2), "gaussian", 0.1)
    assert out.item() == pytest.approx(25.0, rel=1e-6)


def test_reconstruction_zero_for_perfect_gaussian_fit() -> None:
    x = torch.rand(2, 3, 3)
    logits = torch.logit(x.clamp(1e-4, 1 - 1e-4).double()).float()
    assert torch.allclose(reconstruction_loss(logits, x.clamp(1e-4, 1 - 1e-4), "gaussian"), torch.zeros(2), atol=1e-6)


# --------------------------------------------------------------------------- ModelSpec


def test_kl_weight_per_kind() -> None:
    assert _spec("ae").kl_weight == 0.0
    assert _spec("vae").kl_weight == 1.0
    assert _spec("vae", beta=7.0).kl_weight == 1.0
    assert _spec("beta_vae").kl_weight == 4.0
    assert _spec("beta_vae", beta=2.5).kl_weight == 2.5
    assert _spec("ae", beta=9.0).kl_weight == 0.0


def test_variational_flag() -> None:
    assert not _spec("ae").variational
    assert _spec("vae").variational
    assert _spec("beta_vae").variational


@pytest.mark.parametrize(
    "spec",
    [
        ModelSpec("ae", 2, (8, 8)),
        ModelSpec("beta_vae", 16, (32, 32), architecture="conv", channels=(3, 5), conv_hidden=7, beta=2.0),
        ModelSpec("vae", 5, (28, 20), hidden=(11, 7, 3), likelihood="gaussian", gaussian_sigma=0.25),
        ModelSpec("acai", 4, (32, 32), architecture="conv", acai_lambda=0.25, acai_gamma=0.1),
        ModelSpec("vae", 64, (32, 32), architecture="acai_conv", depth=8, latent_width=2),
    ],
)
def test_spec_dict_round_trip(spec: ModelSpec) -> None:
    d = spec.to_dict()
    assert isinstance(d["image_shape"], list)
    assert isinstance(d["hidden"], list)
    assert isinstance(d["channels"], list)
    assert ModelSpec.from_dict(d) == spec
    # through JSON as in meta.json
    assert ModelSpec.from_dict(json.loads(json.dumps(d))) == spec
    assert set(d) == {
        "kind", "latent_dim", "image_shape", "architecture", "hidden", "channels",
        "conv_hidden", "likelihood", "gaussian_sigma", "beta", "acai_lambda", "acai_gamma", "depth", "latent_width",
        "signed_input", "dropout", "denoising_sigma",
    }


def test_spec_from_partial_dict_uses_defaults() -> None:
    spec = ModelSpec.from_dict({"kind": "vae", "latent_dim": 2, "image_shape": [8, 8]})
    assert spec == ModelSpec("vae", 2, (8, 8))
    assert spec.hidden == (256, 128) and spec.likelihood == "bernoulli" and spec.architecture == "mlp"


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"kind": "gan"}, "'gan'"),
        ({"architecture": "transformer"}, "'transformer'"),
        ({"likelihood": "poisson"}, "'poisson'"),
        ({"latent_dim": 0}, "latent dim"),
        ({"architecture": "conv", "image_shape": (30, 30)}, "30x30"),
        ({"image_shape": (2, 8, 8)}, "C 1 or 3"),
        ({"architecture": "conv", "image_shape": (28, 30)}, "divisible by 4"),
        ({"architecture": "conv", "image_shape": (30, 28)}, "divisible by 4"),
    ],
)
def test_invalid_spec_raises(kwargs: dict, needle: str) -> None:
    base = {"kind": "vae", "latent_dim": 2, "image_shape": (8, 8)}
    base.update(kwargs)
    with pytest.raises(LatentwalkError) as excinfo:
        ModelSpec(**base)
    _one_line(excinfo, needle)


def test_spec_is_frozen() -> None:
    spec = _spec()
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.latent_dim = 4  # type: ignore[misc]


# --------------------------------------------------------------------------- loss_terms


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("kl_scale", [0.0, 0.25, 1.0])
def test_loss_terms_combines_with_kl_scale(kind: str, kl_scale: float) -> None:
    torch.manual_seed(4)
    spec = _spec(kind, beta=3.0, likelihood="gaussian", gaussian_sigma=0.2)
    model = build_model(spec)
    x = torch.rand(6, 8, 8)
    noise = torch.randn(6, 3) if spec.variational else None
    loss, recon, kl = loss_terms(model, x, noise, kl_scale)
    logits, mu, logvar = model(x, noise)
    exp_recon = reconstruction_loss(logits, x, "gaussian", 0.2).mean()
    exp_kl = kl_divergence(mu, logvar).mean()
    assert torch.allclose(recon, exp_recon, rtol=1e-6)
    assert torch.allclose(kl, exp_kl, rtol=1e-6)
    weight = {"ae": 0.0, "vae": 1.0, "beta_vae": 3.0}[kind]
    assert torch.allclose(loss, recon + kl_scale * weight * kl, rtol=1e-6)
    if kind == "ae":
        assert kl.item() == 0.0
        assert torch.equal(loss, recon)
    else:
        assert kl.item() > 0.0


def test_loss_terms_scale_changes_loss_for_vae() -> None:
    torch.manual_seed(5)
    model = build_model(_spec("beta_vae", beta=2.0)).double()
    x = torch.rand(6, 1, 8, 8, dtype=torch.float64)
    noise = torch.randn(6, 3, dtype=torch.float64)
    full, recon, kl = loss_terms(model, x, noise, 1.0)
    half, recon2, kl2 = loss_terms(model, x, noise, 0.5)
    assert torch.equal(recon, recon2) and torch.equal(kl, kl2)
    assert (full - half).item() == pytest.approx(0.5 * 2.0 * kl.item(), rel=1e-9)


def test_loss_terms_backpropagates() -> None:
    torch.manual_seed(6)
    model = build_model(_spec("vae"))
    loss, _, _ = loss_terms(model, torch.rand(4, 1, 8, 8), torch.randn(4, 3))
    loss.backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_build_model_depends_only_on_torch_rng() -> None:
    spec = _spec("vae")
    torch.manual_seed(123)
    a = build_model(spec).state_dict()
    torch.manual_seed(123)
    b = build_model(spec).state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    np.testing.assert_equal(sum(p.numel() for p in a.values()), sum(p.numel() for p in b.values()))


@pytest.mark.parametrize(("kind", "dim", "shape", "width", "needle"), [
    ("ae", 64, (1, 32, 32), 2, None),
    ("vae", 16, (3, 8, 8), 2, None),
    ("ae", 6, (32, 32), 2, "not a multiple of latent_width^2 = 4"),
    ("ae", 64, (24, 24), 2, "power of 2"),
    ("ae", 64, (32, 16), 2, "square images"),
])
def test_acai_conv_layout(kind: str, dim: int, shape: tuple[int, ...], width: int, needle: str | None) -> None:
    """The paper's layout: log2(side / latent_width) scales of two 3x3 convolutions; the latent is a feature map."""
    if needle is not None:
        with pytest.raises(LatentwalkError, match=re.escape(needle)):
            ModelSpec(kind, dim, shape, architecture="acai_conv", depth=4, latent_width=width)
        return
    model = build_model(ModelSpec(kind, dim, shape, architecture="acai_conv", depth=4, latent_width=width))
    x = torch.rand(3, *shape)
    mu, logvar = model.encode(x)
    assert mu.shape == (3, dim) and (logvar is None) == (kind == "ae")
    assert model.decode(mu).shape == (3, *shape)
    scales = {32: 4, 8: 2}[shape[-1]]
    pools = sum(isinstance(m, torch.nn.AvgPool2d) for m in model.encoder.modules())
    ups = sum(isinstance(m, torch.nn.Upsample) for m in model.decoder.modules())
    assert pools == ups == scales
    widest = max(m.out_channels for m in model.encoder.modules() if isinstance(m, torch.nn.Conv2d))
    assert widest == 4 << scales  # depth doubles per scale: 4, 8, ..., then depth << scales before the latent


@pytest.mark.parametrize(("side", "channels"), [(28, 1), (32, 3)])
def test_conv_decoder_ends_in_a_transposed_convolution_to_the_image_channels(side: int, channels: int) -> None:
    """The conv decoder's last layer maps its feature maps to pixel logits with a plain nn.ConvTranspose2d, whose
    state_dict keys the saved checkpoints use."""
    model = build_model(ModelSpec("vae", 4, (channels, side, side), architecture="conv", likelihood="bernoulli"))
    last = model.decoder[-1]
    assert type(last) is torch.nn.ConvTranspose2d and last.out_channels == channels
    assert {"decoder.7.weight", "decoder.7.bias"} <= set(model.state_dict())
