"""Seeded, deterministic training of the autoencoders.

Design for speed: the whole training split lives on the device as one tensor,
indices are shuffled once per epoch with a dedicated generator, losses are
logits-based, Adam runs fused (or foreach), and the per-epoch loss totals are
accumulated on the device and read back to Python once per epoch only. MLP
models take the fast path of :mod:`latentwalk.mlp_step` (the backward pass
written out, Adam's fused kernel called directly); conv models use autograd.
"""

from __future__ import annotations

import contextlib
import math
import os
import pickle
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .io import LatentwalkError, atomic_path
from .models import LatentAutoencoder, ModelSpec, build_model, loss_terms

__all__ = ["TrainConfig", "resolve_device", "channels_last_parts", "to_training_layout", "seed_everything",
           "train_model", "flush_denormals", "evaluate", "save_state_dict", "load_model", "history_columns"]

HISTORY_COLUMNS = ("epoch", "loss", "reconstruction", "kl", "seconds")
#: The extra per-epoch columns of adversarially trained kinds (ACAI): the critic's verdict on interpolants (the
#: autoencoder's adversarial term, before its weight lambda) and the critic's own loss.
ADVERSARIAL_COLUMNS = ("adversarial", "critic")


def history_columns(spec: ModelSpec) -> tuple[str, ...]:
    """The per-epoch columns of ``spec``'s training history (``train_log.csv`` adds no ``seconds``)."""
    return HISTORY_COLUMNS + (ADVERSARIAL_COLUMNS if spec.adversarial else ())


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings of one training job."""

    epochs: int
    batch_size: int = 128
    learning_rate: float = 1e-3
    seed: int = 0
    device: str = "auto"
    threads: int = 1
    kl_warmup_epochs: int = 0  # KL weight ramps linearly from 0 to its full value over these epochs

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def resolve_device(name: str) -> torch.device:
    """Map ``auto|cpu|cuda`` to a torch device; asking for cuda without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise LatentwalkError("config key device: 'cuda' requested but torch sees no CUDA device")
    if name not in ("cpu", "cuda"):
        raise LatentwalkError(f"config key device: {name!r} is not allowed; allowed values: 'auto', 'cpu', 'cuda'")
    return torch.device(name)


def trainer_description(spec: ModelSpec, device: torch.device) -> str:
    """How :func:`train_model` trains ``spec`` on ``device``: the job log and the run's meta.json record it, since
    the compiled loops (:mod:`latentwalk.kernels`) and their torch fallback agree only up to float32 rounding."""
    parts = channels_last_parts(spec, device)
    layout = f" ({', '.join(parts)} channels-last)" if parts else ""
    if spec.adversarial:
        return f"autograd{layout}, two players (autoencoder and critic), torch Adam"
    if spec.architecture != "mlp":
        return f"autograd{layout}, torch Adam"
    from . import kernels

    loops = "compiled loops (latentwalk._kernels)" if kernels.available() and device.type == "cpu" else "torch operations"
    return f"written-out MLP step with {loops}, fused Adam"


def channels_last_parts(spec: ModelSpec, device: torch.device) -> tuple[str, ...]:
    """The submodules whose convolution weights :func:`train_model` keeps in channels-last (NHWC) memory format while
    it trains ``spec`` on ``device``; the model it returns is contiguous (NCHW) again.

    On the CPU oneDNN runs most of these convolutions faster on channels-last tensors, and a layer whose weight is
    channels-last makes its output so, which the next convolution then reads without a reordering copy. Measured on
    MNIST at one thread, batch 128, the two layouts in turns (medians of 3): the conv VAE trains 1.12x as fast at
    32 x 32 (the views dataset's size; 17.3 s against 19.5 for 2 epochs) and as fast at 28 x 28 (14.2 s both); ACAI
    with acai_conv at 32 x 32 1.22x (26.1 s against 31.9 for an epoch of 2,560). The conv decoder stays contiguous:
    its 64 -> 32 transposed convolution takes 26 ms channels-last against 19 (forward and backward). Other devices
    keep torch's default. The format changes the order of float32 additions inside a convolution, not the result
    beyond rounding.
    """
    if device.type != "cpu" or spec.architecture == "mlp":
        return ()
    parts = ("encoder", "critic") if spec.adversarial else ("encoder",)
    return (parts + ("decoder",)) if spec.architecture == "acai_conv" else parts


def to_training_layout(model: LatentAutoencoder, device: torch.device) -> LatentAutoencoder:
    """Put the parts :func:`channels_last_parts` names in channels-last memory format, in place; returns ``model``."""
    for part in channels_last_parts(model.spec, device):
        getattr(model, part).to(memory_format=torch.channels_last)
    return model


def seed_everything(seed: int, threads: int, device: torch.device) -> torch.Generator:
    """Seed torch, fix the thread count, demand deterministic kernels; return a data generator."""
    torch.manual_seed(seed)
    torch.set_num_threads(threads)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def _adam(params: Any, lr: float, device: torch.device) -> torch.optim.Optimizer:
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, TypeError):  # fused kernel not available for this device/dtype
        return torch.optim.Adam(params, lr=lr, foreach=True)


@contextlib.contextmanager
def flush_denormals() -> Iterator[bool]:
    """Subnormal floats flushed to zero on the CPU (x86's FTZ and DAZ, ``torch.set_flush_denormal``) inside the
    block, torch's default (off) after it; yields whether the CPU supports it.

    As a model grows confident, some pixel logits saturate and their gradients (sigmoid minus target) become tiny;
    Adam's running averages of those gradients and of their squares then decay into float32's subnormal range
    (below 1.2e-38), where every x86 multiplication takes a slow path of about a hundred cycles. Training the
    lines AE (z=16, 40 epochs) slowed from 0.25 s to 2.3 s per epoch this way (69 s in all); with subnormals
    flushed, 0.23 s per epoch throughout (9.8 s) and the same final loss to four decimals. Flushing changes only
    values below 1.2e-38; the Adam updates they feed lie orders of magnitude below a weight's float32 resolution.
    It applies to the calling thread, which does all the work at ``train.threads`` 1 (the default).
    """
    supported = torch.set_flush_denormal(True)
    try:
        yield supported
    finally:
        if supported:
            torch.set_flush_denormal(False)


@flush_denormals()  # a fresh context for every call (contextlib's decorator form)
def train_model(
    spec: ModelSpec,
    cfg: TrainConfig,
    images: np.ndarray,
    log: Callable[[str], None] = lambda _msg: None,
    on_epoch: Callable[[int, LatentAutoencoder], None] | None = None,
) -> tuple[LatentAutoencoder, list[dict[str, float]]]:
    """Train a model on ``images`` ``(N, H, W)`` in [0, 1]; return it (on CPU) and the per-epoch history.

    The history rows have the keys of :func:`history_columns`, with per-example
    mean losses. A non-finite loss stops training with :class:`LatentwalkError`.
    ``on_epoch(epoch, model)`` runs after each epoch (evaluations during training);
    it must not touch the training's random generator, so it changes no weights. It sees the model in its training
    layout (:func:`channels_last_parts`): a ``state_dict`` taken there has channels-last convolution weights.
    """
    if images.ndim != 3 or tuple(images.shape[1:]) != tuple(spec.image_shape):
        raise LatentwalkError(f"training images have shape {images.shape}, model expects (N, {spec.image_shape})")
    from .mlp_step import FusedAdam, MLPStep, supports

    device = resolve_device(cfg.device)
    generator = seed_everything(cfg.seed, cfg.threads, device)
    model = to_training_layout(build_model(spec).to(device), device)
    data = torch.as_tensor(np.ascontiguousarray(images, dtype=np.float32), device=device)
    n = data.shape[0]
    critic_optimiser = None
    if spec.adversarial:  # two players: the autoencoder and its critic, each with its own Adam
        step = None
        optimiser = _adam((p for name, p in model.named_parameters() if not name.startswith("critic.")), cfg.learning_rate, device)
        critic_optimiser = _adam(model.critic.parameters(), cfg.learning_rate, device)
    elif supports(model):  # the MLP's backward pass written out, and Adam's fused kernel called directly
        step = MLPStep(model)
        optimiser: Any = FusedAdam(step.params, cfg.learning_rate)
        data = data.reshape(n, -1)
    else:
        step, optimiser = None, _adam(model.parameters(), cfg.learning_rate, device)
    history: list[dict[str, float]] = []
    log(f"training {spec.kind} z={spec.latent_dim} ({spec.architecture}, {spec.likelihood}) on {n} images, device {device}: "
        f"{trainer_description(spec, device)}")
    for epoch in range(1, cfg.epochs + 1):
        start = time.perf_counter()
        model.train()
        totals = torch.zeros(5 if spec.adversarial else 3, device=device, dtype=torch.float64)
        # KL scale 0, 1/W, ..., 1: the first epoch trains the reconstruction alone.
        warmup = min(1.0, (epoch - 1) / cfg.kl_warmup_epochs) if cfg.kl_warmup_epochs > 0 else 1.0
        order = torch.randperm(n, generator=generator, device=device)
        for first in range(0, n, cfg.batch_size):
            batch = torch.index_select(data, 0, order[first : first + cfg.batch_size])  # rows: one copy each
            noise = None
            if spec.variational:
                noise = torch.randn(
                    (batch.shape[0], spec.latent_dim), generator=generator, device=device, dtype=batch.dtype
                )
            if critic_optimiser is not None:
                totals += _adversarial_step(model, batch, generator, optimiser, critic_optimiser) * batch.shape[0]
                continue
            if step is not None:
                loss, recon, kl = step(batch, noise, warmup)
            else:
                loss, recon, kl = loss_terms(model, batch, noise, warmup)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
            optimiser.step()
            totals += torch.stack((loss.detach(), recon.detach(), kl.detach())).double() * batch.shape[0]
        loss_v, recon_v, kl_v, *adversarial = (totals / n).tolist()  # the one host sync per epoch
        seconds = time.perf_counter() - start
        if not all(math.isfinite(v) for v in (loss_v, recon_v, kl_v)):
            raise LatentwalkError(
                f"non-finite loss at epoch {epoch} (loss={loss_v}, reconstruction={recon_v}, kl={kl_v}); "
                "lower train.learning_rate or check the data"
            )
        row = {"epoch": epoch, "loss": loss_v, "reconstruction": recon_v, "kl": kl_v, "seconds": seconds}
        row.update(zip(ADVERSARIAL_COLUMNS, adversarial))
        history.append(row)
        if on_epoch is not None:
            on_epoch(epoch, model)
        extra = "".join(f"  {k} {v:8.4f}" for k, v in zip(ADVERSARIAL_COLUMNS, adversarial))
        log(f"epoch {epoch:4d}/{cfg.epochs}  loss {loss_v:10.4f}  recon {recon_v:10.4f}  kl {kl_v:8.4f}{extra}  {seconds:6.2f}s")
    if step is not None:
        step.release()
    return model.to("cpu", memory_format=torch.contiguous_format).eval(), history


def _adversarial_step(model: LatentAutoencoder, batch: torch.Tensor, generator: torch.Generator,
                      optimiser: torch.optim.Optimizer, critic_optimiser: torch.optim.Optimizer) -> torch.Tensor:
    """One ACAI step: both players update from the same forward pass (as if simultaneously); returns the batch
    means (loss, reconstruction, KL = 0, adversarial term, critic loss) as a float64 tensor on the device."""
    from .models import acai_losses

    alpha = torch.rand((batch.shape[0], 1), generator=generator, device=batch.device, dtype=batch.dtype)
    alpha = 0.5 - (alpha - 0.5).abs()  # in [0, 1/2]: the mix is nearer the first of the two latents
    loss, recon, adversarial, critic = acai_losses(model, batch, alpha)
    optimiser.zero_grad(set_to_none=True)
    critic_optimiser.zero_grad(set_to_none=True)
    loss.backward()  # reaches the critic's weights too: cleared before the critic's own backward pass
    critic_optimiser.zero_grad(set_to_none=True)
    critic.backward()
    optimiser.step()
    critic_optimiser.step()
    return torch.stack((loss.detach(), recon.detach(), torch.zeros_like(recon), adversarial.detach(), critic.detach())).double()


def evaluate(model: LatentAutoencoder, images: np.ndarray, batch_size: int = 2048) -> dict[str, float]:
    """Per-example mean reconstruction NLL (decoding the encoder means) and KL on held-out images."""
    from .models import kl_divergence, reconstruction_loss

    device = next(model.parameters()).device
    totals = torch.zeros(2, dtype=torch.float64, device=device)
    with torch.inference_mode():
        for first in range(0, images.shape[0], batch_size):
            x = torch.as_tensor(np.ascontiguousarray(images[first : first + batch_size], dtype=np.float32), device=device)
            logits, mu, logvar = model(x, None)
            recon = reconstruction_loss(logits, x, model.spec.likelihood, model.spec.gaussian_sigma)
            totals += torch.stack((recon.sum(), kl_divergence(mu, logvar).sum())).double()
    recon_v, kl_v = (totals / max(images.shape[0], 1)).tolist()
    if not (math.isfinite(recon_v) and math.isfinite(kl_v)):
        raise LatentwalkError(f"non-finite held-out loss (reconstruction={recon_v}, kl={kl_v}); check the test split")
    return {"reconstruction": recon_v, "kl": kl_v, "loss": recon_v + model.spec.kl_weight * kl_v, "n": int(images.shape[0])}


def mean_image_reconstruction(images: np.ndarray, likelihood: str, sigma: float = 0.1) -> float:
    """Per-image reconstruction NLL of predicting the mean image for every image: the score a model must beat."""
    from .models import reconstruction_loss

    x = torch.as_tensor(np.ascontiguousarray(images, dtype=np.float32))
    mean = x.mean(dim=0, keepdim=True).clamp(1e-6, 1 - 1e-6)
    logits = torch.log(mean) - torch.log1p(-mean)
    return float(reconstruction_loss(logits.expand_as(x), x, likelihood, sigma).double().mean())


#: A run is flagged when its reconstruction is no better than this share of the mean-image baseline.
DEGENERATE_SHARE = 0.98


def training_check(history: list[dict[str, float]], reconstruction: float, baseline: float, warmup_epochs: int = 0) -> dict[str, Any]:
    """Flag a degenerate training run: loss not decreasing over the first epochs, or reconstruction
    (decoding the encoder means of the training images) no better than predicting the mean image.

    Returns ``{"reconstruction", "mean_image_reconstruction", "degenerate", "reason"}``.
    """
    reasons = []
    if reconstruction >= DEGENERATE_SHARE * baseline:
        reasons.append(f"reconstruction {reconstruction:.4g} nats is no better than predicting the mean image "
                       f"({baseline:.4g})")
    k = min(3, len(history))
    if warmup_epochs == 0 and k >= 2 and not history[k - 1]["loss"] < history[0]["loss"]:
        reasons.append(f"loss did not decrease over the first {k} epochs ({history[0]['loss']:.4g} -> "
                       f"{history[k - 1]['loss']:.4g})")
    return {"reconstruction": reconstruction, "mean_image_reconstruction": baseline, "degenerate": bool(reasons),
            "reason": "; ".join(reasons) or None}


def save_state_dict(model: torch.nn.Module, path: str | os.PathLike[str]) -> None:
    """Write the CPU state_dict only (loadable with ``weights_only=True``), atomically."""
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        # Saving through a handle names the zip's root record "archive" rather than
        # the (random) temporary file name, so equal weights give equal bytes.
        torch.save(state, handle)


def load_model(weights: str | os.PathLike[str], spec: ModelSpec, device: str | torch.device = "cpu") -> LatentAutoencoder:
    """Rebuild the model from its spec and load weights with ``weights_only=True``."""
    model = build_model(spec)
    try:
        state = torch.load(Path(weights), map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except (RuntimeError, OSError, KeyError, EOFError, pickle.UnpicklingError) as exc:
        lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
        # state_dict errors put the useful part ("size mismatch for ...") after a generic first line
        useful = [line for line in lines if line.startswith(("size mismatch", "Missing key", "Unexpected key"))]
        detail = "; ".join(useful[:3]) or (lines[0] if lines else type(exc).__name__)
        raise LatentwalkError(f"{weights}: cannot load weights for {spec.kind} z={spec.latent_dim}: {detail}") from exc
    return model.to(device).eval()


def load_run_model(model_pt: str | os.PathLike[str], meta_json: str | os.PathLike[str], device: str | torch.device = "cpu") -> tuple[LatentAutoencoder, ModelSpec]:
    """A run's trained model, checked first against its ``meta.json``: the checkpoint must be the one training wrote.

    Raises :class:`LatentwalkError` naming the file when the checkpoint's SHA-256
    differs from the ``model_sha256`` that ``meta.json`` records (a swapped or
    edited ``model.pt``), or when ``meta.json`` has no model spec.
    """
    from .io import read_json, sha256_file

    meta = read_json(meta_json)
    try:
        spec = ModelSpec.from_dict(meta["config"]["model"])
    except (KeyError, TypeError) as exc:
        raise LatentwalkError(f"{meta_json}: no model spec under config.model; is this a run's meta.json?") from exc
    recorded = meta.get("model_sha256")
    actual = sha256_file(model_pt)
    if recorded is None or actual != recorded:
        raise LatentwalkError(
            f"{model_pt}: SHA-256 {actual[:12]}... is not the checkpoint {meta_json} records "
            f"({str(recorded)[:12]}...); the weights were replaced or edited: retrain (delete the file) or restore it"
        )
    return load_model(model_pt, spec, device), spec
