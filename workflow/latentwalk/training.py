"""Seeded, deterministic training of the autoencoders.

Design for speed: the whole training split lives on the device as one tensor,
indices are shuffled once per epoch with a dedicated generator, losses are
logits-based, Adam runs fused (or foreach), and the per-epoch loss totals are
accumulated on the device and read back to Python once per epoch only. MLP
models take the fast path of :mod:`latentwalk.mlp_step` (the backward pass
written out, Adam's fused kernel called directly); conv models use autograd.
"""

from __future__ import annotations

import math
import os
import pickle
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .io import LatentwalkError, atomic_path
from .models import LatentAutoencoder, ModelSpec, build_model, loss_terms

__all__ = ["TrainConfig", "resolve_device", "seed_everything", "train_model", "evaluate", "save_state_dict", "load_model"]

HISTORY_COLUMNS = ("epoch", "loss", "reconstruction", "kl", "seconds")


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


def _adam(model: torch.nn.Module, lr: float, device: torch.device) -> torch.optim.Optimizer:
    try:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    except (RuntimeError, TypeError):  # fused kernel not available for this device/dtype
        return torch.optim.Adam(model.parameters(), lr=lr, foreach=True)


def train_model(
    spec: ModelSpec,
    cfg: TrainConfig,
    images: np.ndarray,
    log: Callable[[str], None] = lambda _msg: None,
) -> tuple[LatentAutoencoder, list[dict[str, float]]]:
    """Train a model on ``images`` ``(N, H, W)`` in [0, 1]; return it (on CPU) and the per-epoch history.

    The history rows have the keys of :data:`HISTORY_COLUMNS`, with per-example
    mean losses. A non-finite loss stops training with :class:`LatentwalkError`.
    """
    if images.ndim != 3 or tuple(images.shape[1:]) != tuple(spec.image_shape):
        raise LatentwalkError(f"training images have shape {images.shape}, model expects (N, {spec.image_shape})")
    from .mlp_step import FusedAdam, MLPStep, supports

    device = resolve_device(cfg.device)
    generator = seed_everything(cfg.seed, cfg.threads, device)
    model = build_model(spec).to(device)
    data = torch.as_tensor(np.ascontiguousarray(images, dtype=np.float32), device=device)
    n = data.shape[0]
    if supports(model):  # the MLP's backward pass written out, and Adam's fused kernel called directly
        step = MLPStep(model)
        optimiser: Any = FusedAdam(step.params, cfg.learning_rate)
        data = data.reshape(n, -1)
    else:
        step, optimiser = None, _adam(model, cfg.learning_rate, device)
    history: list[dict[str, float]] = []
    log(f"training {spec.kind} z={spec.latent_dim} ({spec.architecture}, {spec.likelihood}) on {n} images, device {device}")
    for epoch in range(1, cfg.epochs + 1):
        start = time.perf_counter()
        model.train()
        totals = torch.zeros(3, device=device, dtype=torch.float64)
        # KL scale 0, 1/W, ..., 1: the first epoch trains the reconstruction alone.
        warmup = min(1.0, (epoch - 1) / cfg.kl_warmup_epochs) if cfg.kl_warmup_epochs > 0 else 1.0
        order = torch.randperm(n, generator=generator, device=device)
        for first in range(0, n, cfg.batch_size):
            batch = data[order[first : first + cfg.batch_size]]
            noise = None
            if spec.variational:
                noise = torch.randn(
                    (batch.shape[0], spec.latent_dim), generator=generator, device=device, dtype=batch.dtype
                )
            if step is not None:
                loss, recon, kl = step(batch, noise, warmup)
            else:
                loss, recon, kl = loss_terms(model, batch, noise, warmup)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
            optimiser.step()
            totals += torch.stack((loss.detach(), recon.detach(), kl.detach())).double() * batch.shape[0]
        loss_v, recon_v, kl_v = (totals / n).tolist()  # the one host sync per epoch
        seconds = time.perf_counter() - start
        if not all(math.isfinite(v) for v in (loss_v, recon_v, kl_v)):
            raise LatentwalkError(
                f"non-finite loss at epoch {epoch} (loss={loss_v}, reconstruction={recon_v}, kl={kl_v}); "
                "lower train.learning_rate or check the data"
            )
        history.append(
            {"epoch": epoch, "loss": loss_v, "reconstruction": recon_v, "kl": kl_v, "seconds": seconds}
        )
        log(f"epoch {epoch:4d}/{cfg.epochs}  loss {loss_v:10.4f}  recon {recon_v:10.4f}  kl {kl_v:8.4f}  {seconds:6.2f}s")
    return model.to("cpu").eval(), history


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
