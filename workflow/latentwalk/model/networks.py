"""Autoencoder models: deterministic AE, its dropout and denoising variants, Gaussian-encoder VAE and beta-VAE, ACAI.

Encoders map an image batch ``(B, C, H, W)`` (C = 1 grey or 3 RGB, pixels in [0, 1]) to latent
means (and log-variances for variational models); decoders map latents to
pixel *logits* ``(B, C, H, W)``, so the Bernoulli loss can use the numerically
stable ``binary_cross_entropy_with_logits``. The line benchmark's likelihood ``mse`` is the ACAI paper's instead:
a linear output on images scaled to [-1, 1] and the mean squared error over pixels. Three architectures: an MLP
for any image size, a small conv net (two stride-2 4x4 convolutions) for sides divisible by 4, and the ACAI
paper's all-convolutional layout (with its initialisation).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from latentwalk.core.io import LatentwalkError
from latentwalk.core.registry import ARCHITECTURES, MODELS

__all__ = ["ModelSpec", "use_threads", "resolve_device", "image_shape", "to_input", "to_frames", "LatentAutoencoder", "Critic", "build_model", "kl_divergence",
           "reconstruction_loss", "corrupt", "loss_terms", "acai_losses", "LIKELIHOODS"]


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to rebuild a model; stored in ``meta.json`` beside the weights."""

    kind: str  # a key of registry.MODELS
    latent_dim: int
    image_shape: tuple[int, int, int]  # (C, H, W); (H, W) means grey, (1, H, W)
    architecture: str = "mlp"  # mlp | conv | acai_conv
    hidden: tuple[int, ...] = (256, 128)
    channels: tuple[int, ...] = (32, 64)
    conv_hidden: int = 256
    likelihood: str = "bernoulli"  # bernoulli | gaussian | mse (linear output on [-1, 1] pixels, per-pixel mean)
    gaussian_sigma: float = 0.1
    beta: float = field(default=4.0)
    acai_lambda: float = 0.5  # ACAI: weight of the critic's verdict on interpolants in the autoencoder's loss
    acai_gamma: float = 0.2  # ACAI: the critic sees gamma x + (1 - gamma) x_hat as real (alpha = 0)
    depth: int = 16  # acai_conv: channels of the first scale (doubling per scale)
    latent_width: int = 2  # acai_conv: side of the latent feature map (latent_dim / latent_width^2 channels)
    signed_input: bool = False  # the encoder (and critic) sees 2x - 1, as the ACAI paper's networks do
    dropout: float = 0.5  # dropout_ae: probability that training drops a latent unit (the paper keeps half)
    denoising_sigma: float = 0.5  # denoising_ae: noise std on [0, 1] pixels (the paper's 1.0 on [-1, 1] pixels)

    def __post_init__(self) -> None:
        if self.kind not in MODELS:
            raise LatentwalkError(f"model kind {self.kind!r} is unknown; allowed: {', '.join(map(repr, MODELS))}")
        if self.architecture not in ARCHITECTURES:
            raise LatentwalkError(f"model architecture {self.architecture!r} is unknown; allowed: "
                                  + ", ".join(map(repr, ARCHITECTURES)))
        if self.likelihood not in LIKELIHOODS:
            raise LatentwalkError(f"likelihood {self.likelihood!r} is unknown; allowed: {', '.join(map(repr, LIKELIHOODS))}")
        if not 0.0 <= self.dropout < 1.0 or not self.denoising_sigma > 0:
            raise LatentwalkError(f"model dropout must be in [0, 1) and denoising_sigma > 0, got {self.dropout} and "
                                  f"{self.denoising_sigma}")
        if self.latent_dim < 1:
            raise LatentwalkError(f"latent dim must be >= 1, got {self.latent_dim}")
        if not self.hidden or min(self.hidden) < 1:
            raise LatentwalkError(f"model hidden widths must be a non-empty list of positive integers, got {list(self.hidden)}")
        if len(self.channels) != 2 or min(self.channels) < 1:
            raise LatentwalkError(f"model channels must be two positive integers, got {list(self.channels)}")
        if len(self.image_shape) == 2:  # grey images given by their side lengths
            object.__setattr__(self, "image_shape", (1, *self.image_shape))
        object.__setattr__(self, "image_shape", tuple(int(v) for v in self.image_shape))
        if len(self.image_shape) != 3 or self.image_shape[0] not in (1, 3) or min(self.image_shape) < 1:
            raise LatentwalkError(f"model image shape must be (C, H, W) with C 1 or 3, got {self.image_shape}")
        h, w = self.image_shape[1:]
        if self.architecture == "conv" and (h % 4 or w % 4):
            raise LatentwalkError(f"conv architecture needs image sides divisible by 4, got {h}x{w}")
        if self.architecture == "acai_conv":
            side, width = h // self.latent_width if self.latent_width > 0 else 0, self.latent_width
            if h != w or width < 1 or h % width or side & (side - 1) or side < 2:
                raise LatentwalkError(f"acai_conv needs square images whose side is the latent width ({width}) times a "
                                      f"power of 2 (>= 2), got {h}x{w}")
            if self.latent_dim % (width * width):
                raise LatentwalkError(f"acai_conv: latent dim {self.latent_dim} is not a multiple of latent_width^2 = "
                                      f"{width * width}")
            if self.depth < 1:
                raise LatentwalkError(f"acai_conv: depth must be >= 1, got {self.depth}")

    @property
    def variational(self) -> bool:
        return MODELS[self.kind].variational

    @property
    def corruption(self) -> str | None:
        """What training corrupts: ``dropout`` (latent units), ``noise`` (input pixels) or nothing."""
        return MODELS[self.kind].corruption

    @property
    def adversarial(self) -> bool:
        """Whether a critic trains against the model (ACAI)."""
        return MODELS[self.kind].adversarial

    @property
    def kl_weight(self) -> float:
        """Weight of the KL term: 0 for ae, 1 for vae, ``beta`` for beta_vae."""
        fixed = MODELS[self.kind].kl_weight
        return self.beta if fixed is None else fixed

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["image_shape"] = list(self.image_shape)
        out["hidden"] = list(self.hidden)
        out["channels"] = list(self.channels)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSpec:
        values = dict(data)
        unknown = sorted(set(values) - {f.name for f in fields(cls)})
        if unknown:
            raise LatentwalkError(f"model spec: unknown key(s) {', '.join(unknown)}")
        values["image_shape"] = tuple(values["image_shape"])
        for key in ("hidden", "channels"):
            if key in values:
                values[key] = tuple(values[key])
        return cls(**values)


#: Reconstruction likelihoods: Bernoulli (sigmoid output), Gaussian (sigmoid output, squared error over
#: ``gaussian_sigma^2``, summed) and the ACAI paper's ``mse`` (linear output on [-1, 1] pixels, mean over pixels).
LIKELIHOODS: tuple[str, ...] = ("bernoulli", "gaussian", "mse")


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _scales(spec: ModelSpec) -> int:
    """acai_conv: how many times the image side halves down to the latent width."""
    return (spec.image_shape[1] // spec.latent_width).bit_length() - 1


def _conv_stack(c_in: int, c_out: int) -> list[nn.Module]:
    """Two 3x3 'same' convolutions with leaky ReLU (slope 0.2), as each scale of the paper's networks."""
    return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(c_out, c_out, 3, padding=1), nn.LeakyReLU(0.2)]


def _acai_encoder(spec: ModelSpec, channels: int) -> nn.Sequential:
    """The ACAI paper's encoder: a 1x1 convolution to ``depth`` channels, then per scale two 3x3 convolutions
    (``depth * 2^s`` channels) and 2x2 average pooling, then a 3x3 convolution and a 3x3 one to ``channels``
    at the latent width; flattened channel-major."""
    layers: list[nn.Module] = [nn.Conv2d(spec.image_shape[0], spec.depth, 1)]
    c = spec.depth
    for s in range(_scales(spec)):
        layers += [*_conv_stack(c, spec.depth << s), nn.AvgPool2d(2)]
        c = spec.depth << s
    top = spec.depth << _scales(spec)
    layers += [nn.Conv2d(c, top, 3, padding=1), nn.LeakyReLU(0.2), nn.Conv2d(top, channels, 3, padding=1), nn.Flatten()]
    return nn.Sequential(*layers)


def _acai_decoder(spec: ModelSpec) -> nn.Sequential:
    """The ACAI paper's decoder: from the latent map, per scale (coarsest first) two 3x3 convolutions and a
    nearest-neighbour 2x upsampling, then a 3x3 convolution with leaky ReLU and a 3x3 one to the pixel logits."""
    w = spec.latent_width
    c = spec.latent_dim // (w * w)
    layers: list[nn.Module] = [nn.Unflatten(1, (c, w, w))]
    for s in reversed(range(_scales(spec))):
        layers += [*_conv_stack(c, spec.depth << s), nn.Upsample(scale_factor=2, mode="nearest")]
        c = spec.depth << s
    layers += [nn.Conv2d(c, spec.depth, 3, padding=1), nn.LeakyReLU(0.2),
               nn.Conv2d(spec.depth, spec.image_shape[0], 3, padding=1)]
    return nn.Sequential(*layers)


def _he_init(net: nn.Module) -> nn.Module:
    """The ACAI paper's initialisation: every convolution's weights normal with std ``1 / sqrt(1.04 fan_in)`` (He's,
    for leaky ReLU slope 0.2), dense layers Glorot-uniform, all biases zero."""
    for layer in net.modules():
        if isinstance(layer, nn.Conv2d):
            fan_in = layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1]
            nn.init.normal_(layer.weight, std=(1.04 * fan_in) ** -0.5)
        elif isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)
        if isinstance(layer, (nn.Conv2d, nn.Linear)) and layer.bias is not None:
            nn.init.zeros_(layer.bias)
    return net


def _encoder(spec: ModelSpec, outputs: int) -> nn.Sequential:
    """Images ``(B, C, H, W)`` -> ``(B, outputs)``: the MLP, the two-convolution or the ACAI paper's layout (whose
    VAE adds dense mean and log-variance heads on the flattened latent map, as the paper's ``vae.py``)."""
    c, h, w = spec.image_shape
    if spec.architecture == "acai_conv":
        if outputs == 2 * spec.latent_dim:
            return _he_init(nn.Sequential(_acai_encoder(spec, spec.latent_dim // spec.latent_width**2),
                                          nn.Linear(spec.latent_dim, outputs)))
        return _he_init(_acai_encoder(spec, max(1, outputs // spec.latent_width**2)))
    if spec.architecture == "mlp":
        widths = [c * h * w, *spec.hidden]
        return nn.Sequential(nn.Flatten(), _mlp(widths), nn.ReLU(), nn.Linear(widths[-1], outputs))
    c1, c2 = spec.channels
    return nn.Sequential(
        nn.Conv2d(c, c1, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Conv2d(c1, c2, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(c2 * (h // 4) * (w // 4), spec.conv_hidden),
        nn.ReLU(),
        nn.Linear(spec.conv_hidden, outputs),
    )


class Critic(nn.Module):
    """ACAI's critic: an encoder-shaped network whose output, averaged, estimates the mixing coefficient of an
    interpolant (0 for real data)."""

    def __init__(self, body: nn.Module) -> None:
        super().__init__()
        self.body = body

    def forward(self, x: Tensor) -> Tensor:
        """``(B,)`` verdicts for images ``(B, C, H, W)``."""
        return self.body(x).mean(dim=1)


class LatentAutoencoder(nn.Module):
    """An autoencoder whose encoder outputs ``(mu, logvar)``; ``logvar`` is None for ``ae``."""

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self.spec = spec
        c, h, w = spec.image_shape
        d = spec.latent_dim
        heads = 2 * d if spec.variational else d
        self.encoder = _encoder(spec, heads)
        if spec.adversarial:  # the critic has the encoder's layout; its verdict is the mean of its d outputs
            self.critic = Critic(_encoder(spec, d))
        if spec.architecture == "acai_conv":
            self.decoder = _he_init(_acai_decoder(spec))
        elif spec.architecture == "mlp":
            widths = [c * h * w, *spec.hidden]
            self.decoder = nn.Sequential(_mlp([d, *reversed(widths)]), nn.Unflatten(1, (c, h, w)))
        else:
            c1, c2 = spec.channels
            fh, fw = h // 4, w // 4
            flat = c2 * fh * fw
            self.decoder = nn.Sequential(
                nn.Linear(d, spec.conv_hidden),
                nn.ReLU(),
                nn.Linear(spec.conv_hidden, flat),
                nn.ReLU(),
                nn.Unflatten(1, (c2, fh, fw)),
                nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1),
                nn.ReLU(),
                nn.ConvTranspose2d(c1, c, 4, stride=2, padding=1),
            )

    def model_scale(self, x: Tensor) -> Tensor:
        """Images in [0, 1] as the encoder and critic see them: ``2x - 1`` with ``signed_input``, else as they are."""
        return 2.0 * x - 1.0 if self.spec.signed_input else x

    def output_images(self, logits: Tensor) -> Tensor:
        """The decoder's output as images on the encoder's scale (:meth:`model_scale`), what a critic judges."""
        if self.spec.likelihood == "mse":
            return logits if self.spec.signed_input else (logits + 1.0) * 0.5
        images = torch.sigmoid(logits)
        return 2.0 * images - 1.0 if self.spec.signed_input else images

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor | None]:
        """Latent means and (for VAEs) log-variances of an image batch ``(B, C, H, W)`` in [0, 1]."""
        out = self.encoder(self.model_scale(x))
        if self.spec.variational:
            mu, logvar = out.chunk(2, dim=1)
            return mu, logvar
        return out, None

    def decode_logits(self, z: Tensor) -> Tensor:
        """Pixel logits ``(B, C, H, W)`` for latents ``(B, d)``."""
        return self.decoder(z)

    def decode(self, z: Tensor) -> Tensor:
        """Decoded images on the [0, 1] scale (the ``mse`` likelihood's linear output is not clipped)."""
        logits = self.decode_logits(z)
        return (logits + 1.0) * 0.5 if self.spec.likelihood == "mse" else torch.sigmoid(logits)

    def forward(self, x: Tensor, noise: Tensor | None = None) -> tuple[Tensor, Tensor, Tensor | None]:
        """Return ``(logits, mu, logvar)``; ``noise`` ~ N(0, I) drives the reparameterisation."""
        mu, logvar = self.encode(x)
        z = mu
        if logvar is not None and noise is not None:
            z = mu + noise * torch.exp(0.5 * logvar)
        return self.decode_logits(z), mu, logvar


def image_shape(images: Any) -> tuple[int, int, int]:
    """The model input shape ``(C, H, W)`` of images stored ``(N, H, W, C)``."""
    _, h, w, c = images.shape
    return int(c), int(h), int(w)


def to_input(batch: Tensor) -> Tensor:
    """Stored images ``(B, H, W, C)`` (float32 in [0, 1] or uint8) as model input: float32 ``(B, C, H, W)``."""
    x = batch.permute(0, 3, 1, 2)
    return x.float().div_(255.0) if x.dtype == torch.uint8 else x


def to_frames(images: Tensor) -> Any:
    """Decoded images ``(B, C, H, W)`` as stored frames: a numpy float32 array ``(B, H, W, C)``."""
    return images.permute(0, 2, 3, 1).cpu().numpy()


def use_threads(threads: int) -> None:
    """Run torch's CPU work on ``threads`` threads: the job's Snakemake ``threads``. Torch's own default is every core
    of the machine, so two jobs side by side would each spin on both, and float results would depend on the machine."""
    if int(threads) < 1:
        raise LatentwalkError(f"threads must be >= 1, got {threads}")
    torch.set_num_threads(int(threads))


def resolve_device(name: str) -> torch.device:
    """Map ``auto|cpu|cuda`` to a torch device; asking for cuda without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise LatentwalkError("config key device: 'cuda' requested but torch sees no CUDA device")
    if name not in ("cpu", "cuda"):
        raise LatentwalkError(f"config key device: {name!r} is not allowed; allowed values: 'auto', 'cpu', 'cuda'")
    return torch.device(name)


def build_model(spec: ModelSpec) -> LatentAutoencoder:
    """Instantiate the model described by ``spec`` (weights from the current torch RNG)."""
    return LatentAutoencoder(spec)


def reconstruction_loss(logits: Tensor, x: Tensor, likelihood: str, sigma: float = 0.1) -> Tensor:
    """Per-example negative log-likelihood (up to constants), summed over pixels (``mse``: the mean squared error
    over pixels on the [-1, 1] scale): shape ``(B,)``."""
    if likelihood == "mse":  # the ACAI paper's: linear output against 2x - 1, mean over pixels
        return (logits - (2.0 * x - 1.0)).square().flatten(1).mean(dim=1)
    if likelihood == "bernoulli":
        nll = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    else:
        nll = 0.5 * (torch.sigmoid(logits) - x).square() / (sigma * sigma)
    return nll.flatten(1).sum(dim=1)


def kl_divergence(mu: Tensor, logvar: Tensor | None) -> Tensor:
    """KL(N(mu, diag(exp(logvar))) || N(0, I)) per example, shape ``(B,)``; zero for ``ae``."""
    if logvar is None:
        return mu.new_zeros(mu.shape[0])
    return 0.5 * (mu.square() + logvar.exp() - 1.0 - logvar).sum(dim=1)


def corrupt(spec: ModelSpec, x: Tensor, generator: torch.Generator | None) -> tuple[Tensor, Tensor | None]:
    """What training shows a regularised autoencoder: ``(encoder input, latent mask)``. ``denoising_ae`` adds
    Gaussian noise (std ``denoising_sigma``) to the input pixels, ``dropout_ae`` drops each latent unit with
    probability ``dropout`` and scales the kept ones by ``1 / (1 - dropout)``; both draw from ``generator``. Other
    kinds (and no generator) see ``x`` and no mask."""
    if generator is None or spec.corruption is None:
        return x, None
    if spec.corruption == "noise":
        return x + spec.denoising_sigma * torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype), None
    keep = 1.0 - spec.dropout
    drawn = torch.rand((x.shape[0], spec.latent_dim), generator=generator, device=x.device, dtype=x.dtype)
    return x, (drawn < keep).to(x.dtype) / keep


def loss_terms(
    model: LatentAutoencoder, x: Tensor, noise: Tensor | None, kl_scale: float = 1.0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor, Tensor]:
    """Batch means of (total loss, reconstruction, KL); the KL weight is ``kl_scale * spec.kl_weight``. With a
    ``generator``, a dropout or denoising autoencoder trains on its corrupted view (:func:`corrupt`) and is scored
    against the clean ``x``."""
    seen, mask = corrupt(model.spec, x, generator)
    if mask is None:
        logits, mu, logvar = model(seen, noise)
    else:
        mu, logvar = model.encode(seen)
        logits = model.decode_logits(mu * mask)
    recon = reconstruction_loss(logits, x, model.spec.likelihood, model.spec.gaussian_sigma).mean()
    kl = kl_divergence(mu, logvar).mean()
    return recon + (kl_scale * model.spec.kl_weight) * kl, recon, kl


def acai_losses(
    model: LatentAutoencoder, x: Tensor, alpha: Tensor
) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One batch of the adversarially constrained autoencoder (ACAI, Berthelot et al. 2018).

    ``alpha`` ``(B, 1)`` in [0, 1/2] mixes each latent with the batch's reversed latents,
    ``z_mix = alpha z + (1 - alpha) z[::-1]``. The critic regresses ``alpha`` from the decoded mix and sees
    ``gamma x + (1 - gamma) x_hat`` (real data blended with its reconstruction) as ``alpha = 0``; the
    autoencoder minimises its reconstruction loss plus ``lambda`` times the critic's squared output on the
    mixes (it wants mixes the critic takes for real data), that term scaled by the pixel count for a summed
    likelihood so that ``lambda`` keeps the paper's balance (its ``mse`` reconstruction is a mean over pixels). Returns the batch means
    ``(autoencoder loss, reconstruction, adversarial term, critic loss)``; the critic loss's graph reaches the
    critic only (its inputs are detached), the autoencoder loss's the encoder, decoder and critic (step only
    the autoencoder's optimiser on it).
    """
    spec = model.spec
    mu, _ = model.encode(x)
    logits = model.decode_logits(mu)
    recon = reconstruction_loss(logits, x, spec.likelihood, spec.gaussian_sigma).mean()
    mixed = alpha * mu + (1.0 - alpha) * mu.flip(0)
    decoded_mix = model.output_images(model.decode_logits(mixed))
    adversarial = model.critic(decoded_mix).square().mean()
    blend = spec.acai_gamma * model.model_scale(x) + (1.0 - spec.acai_gamma) * model.output_images(logits).detach()
    critic = (model.critic(decoded_mix.detach()) - alpha[:, 0]).square().mean() + model.critic(blend).square().mean()
    # the paper's reconstruction (likelihood mse) is a per-pixel mean; a summed likelihood scales lambda by the pixels
    pixels = 1.0 if spec.likelihood == "mse" else float(x[0].numel())
    return recon + (spec.acai_lambda * pixels) * adversarial, recon, adversarial, critic
