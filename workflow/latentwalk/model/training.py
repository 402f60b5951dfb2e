"""Seeded, deterministic training of the autoencoders.

One code path for every model and device: plain autograd and torch's own Adam.
The whole training split lives on the device as one tensor, indices are
shuffled once per epoch with a dedicated generator, losses are logits-based,
and the per-epoch loss totals are accumulated on the device and read back to
Python once per epoch only.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from latentwalk.core.io import LatentwalkError, PathLike, atomic_path, provenance, sha256_file, write_json
from latentwalk.core.logs import Log, quiet
from latentwalk.core.registry import SWEPT_KINDS, Run
from latentwalk.data.dataset import as_float, load_dataset
from latentwalk.model.checkpoint import save_state_dict
from latentwalk.model.networks import (
    LatentAutoencoder,
    ModelSpec,
    acai_losses,
    build_model,
    image_shape,
    kl_divergence,
    loss_terms,
    resolve_device,
    reconstruction_loss,
    to_input,
    use_threads,
)

__all__ = ["TrainConfig", "fused_adam", "make_optimisers", "training_step", "trainer_description", "seed_everything", "train_model", "flush_denormals",
           "evaluate", "mean_image_reconstruction", "training_check", "history_columns", "train"]

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


def fused_adam(device: torch.device) -> bool:
    """Whether torch has its fused Adam kernel for float32 parameters on ``device`` (else Adam runs foreach)."""
    try:
        torch.optim.Adam([torch.zeros(1, device=device, requires_grad=True)], fused=True)
    except (RuntimeError, TypeError):
        return False
    return True


def trainer_description(spec: ModelSpec, device: torch.device) -> str:
    """How :func:`train_model` trains ``spec`` on ``device``, for the job log and the run's meta.json: autograd and
    torch's Adam (fused or foreach), one player or two (ACAI's critic)."""
    players = ", two players (autoencoder and critic)" if spec.adversarial else ""
    return f"autograd{players}, torch Adam ({'fused' if fused_adam(device) else 'foreach'})"


def seed_everything(seed: int, threads: int, device: torch.device) -> torch.Generator:
    """Seed torch, fix the thread count, demand deterministic kernels; return a data generator."""
    torch.manual_seed(seed)
    use_threads(threads)
    if device.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    return generator


def _adam(params: Any, lr: float, device: torch.device) -> torch.optim.Optimizer:
    """torch's Adam: fused where the device has the kernel, else foreach."""
    fused = fused_adam(device)
    return torch.optim.Adam(list(params), lr=lr, fused=fused or None, foreach=None if fused else True)


@contextlib.contextmanager
def flush_denormals() -> Iterator[bool]:
    """Subnormal floats flushed to zero on the CPU (x86's FTZ and DAZ, ``torch.set_flush_denormal``) inside the
    block, torch's default (off) after it; yields whether the CPU supports it.

    As a model grows confident, some pixel logits saturate and their gradients (sigmoid minus target) become tiny;
    Adam's running averages of those gradients and of their squares then decay into float32's subnormal range
    (below 1.2e-38), where every x86 multiplication takes a slow path of about a hundred cycles, and an epoch of
    the default run's line models takes ten times as long. Flushing changes only values below 1.2e-38; the Adam
    updates they feed lie orders of magnitude below a weight's float32 resolution.
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
    """Train a model on ``images`` ``(N, H, W, C)`` (float32 in [0, 1] or uint8, converted a batch at a time); return
    it (on CPU) and the per-epoch history.

    The history rows have the keys of :func:`history_columns`, with per-example
    mean losses. A non-finite loss stops training with :class:`LatentwalkError`.
    ``on_epoch(epoch, model)`` runs after each epoch (evaluations during training);
    it must not touch the training's random generator, so it changes no weights.
    """
    if images.ndim != 4 or image_shape(images) != tuple(spec.image_shape):
        raise LatentwalkError(f"training images have shape {images.shape} (N, H, W, C), model expects (C, H, W) = "
                              f"{spec.image_shape}")
    device = resolve_device(cfg.device)
    generator = seed_everything(cfg.seed, cfg.threads, device)
    model = build_model(spec).to(device)
    data = torch.as_tensor(np.ascontiguousarray(images if images.dtype == np.uint8 else as_float(images)), device=device)
    n = data.shape[0]
    optimisers = make_optimisers(model, cfg.learning_rate, device)
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
            batch = to_input(torch.index_select(data, 0, order[first : first + cfg.batch_size]))  # rows: one copy each
            totals += training_step(model, batch, generator, optimisers, warmup) * batch.shape[0]
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
    return model.to("cpu").eval(), history


def make_optimisers(model: LatentAutoencoder, learning_rate: float, device: torch.device) -> tuple[torch.optim.Optimizer, ...]:
    """One Adam per player: the model's, and for adversarial kinds (ACAI) the critic's own."""
    if not model.spec.adversarial:
        return (_adam(model.parameters(), learning_rate, device),)
    players = (p for name, p in model.named_parameters() if not name.startswith("critic."))
    return _adam(players, learning_rate, device), _adam(model.critic.parameters(), learning_rate, device)


def training_step(model: LatentAutoencoder, batch: torch.Tensor, generator: torch.Generator,
                  optimisers: Sequence[torch.optim.Optimizer], kl_scale: float = 1.0) -> torch.Tensor:
    """One optimisation step on ``batch`` (model input, :func:`to_input`), every random draw from ``generator``;
    returns the batch means (loss, reconstruction, KL[, adversarial, critic]) as a float64 tensor on the device."""
    spec = model.spec
    if spec.adversarial:
        return _adversarial_step(model, batch, generator, *optimisers)
    noise = None
    if spec.variational:
        noise = torch.randn((batch.shape[0], spec.latent_dim), generator=generator, device=batch.device, dtype=batch.dtype)
    loss, recon, kl = loss_terms(model, batch, noise, kl_scale, generator)
    optimisers[0].zero_grad(set_to_none=True)
    loss.backward()
    optimisers[0].step()
    return torch.stack((loss.detach(), recon.detach(), kl.detach())).double()


def _adversarial_step(model: LatentAutoencoder, batch: torch.Tensor, generator: torch.Generator,
                      optimiser: torch.optim.Optimizer, critic_optimiser: torch.optim.Optimizer) -> torch.Tensor:
    """One ACAI step: both players update from the same forward pass (as if simultaneously); returns the batch
    means (loss, reconstruction, KL = 0, adversarial term, critic loss) as a float64 tensor on the device."""

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

    device = next(model.parameters()).device
    totals = torch.zeros(2, dtype=torch.float64, device=device)
    with torch.inference_mode():
        for first in range(0, images.shape[0], batch_size):
            x = to_input(torch.as_tensor(np.ascontiguousarray(images[first : first + batch_size]), device=device))
            logits, mu, logvar = model(x, None)
            recon = reconstruction_loss(logits, x, model.spec.likelihood, model.spec.gaussian_sigma)
            totals += torch.stack((recon.sum(), kl_divergence(mu, logvar).sum())).double()
    recon_v, kl_v = (totals / max(images.shape[0], 1)).tolist()
    if not (math.isfinite(recon_v) and math.isfinite(kl_v)):
        raise LatentwalkError(f"non-finite held-out loss (reconstruction={recon_v}, kl={kl_v}); check the test split")
    return {"reconstruction": recon_v, "kl": kl_v, "loss": recon_v + model.spec.kl_weight * kl_v, "n": int(images.shape[0])}


def mean_image_reconstruction(images: np.ndarray, likelihood: str, sigma: float = 0.1, batch_size: int = 2048) -> float:
    """Per-image reconstruction NLL of predicting the mean image for every image: the score a model must beat
    (two passes over ``images`` a batch at a time: the mean, then the loss)."""

    def batches() -> Iterator[torch.Tensor]:
        for first in range(0, images.shape[0], batch_size):
            yield to_input(torch.as_tensor(np.ascontiguousarray(images[first : first + batch_size])))

    mean = (sum(x.double().sum(dim=0) for x in batches()) / images.shape[0]).float().clamp(1e-6, 1 - 1e-6)[None]
    logits = torch.log(mean) - torch.log1p(-mean)
    total = sum(reconstruction_loss(logits.expand_as(x), x, likelihood, sigma).double().sum() for x in batches())
    return float(total / images.shape[0])


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


# --------------------------------------------------------------------------- the train job


def write_history_csv(history: Sequence[Mapping[str, float]], columns: Sequence[str], path: PathLike) -> None:
    """Write the per-epoch rows' ``columns`` as CSV atomically (floats as their shortest repr)."""
    with atomic_path(path) as tmp:
        pd.DataFrame(list(history), columns=list(columns)).to_csv(tmp, index=False)


def train(
    data_npz: PathLike,
    run: str,
    model_params: Mapping[str, Any],
    train_params: Mapping[str, Any],
    seed: int,
    device: str,
    out: Mapping[str, PathLike],
    log: Log = quiet,
) -> None:
    """Train ``run`` (``{dataset}/{model}-z{dim}``) on the train split of ``data_npz``; write ``out["model"]`` (the
    weights), ``out["history"]`` (per-epoch losses, CSV) and ``out["meta"]`` (provenance JSON).

    The run's model name fixes the kind and the KL weight (``vae``, ``beta_vae-b4``, ...); ``model_params`` holds
    only the settings that shape this run (:class:`ModelSpec` defaults fill the rest).
    """
    named = Run.parse(run)
    data = load_dataset(data_npz)
    is_train = data.split == "train"
    images = data.images[is_train]
    spec = ModelSpec.from_dict(
        {
            "kind": named.kind,
            **({"beta": named.kl_weight} if named.kind in SWEPT_KINDS else {}),  # model.beta, via the run's name
            "latent_dim": named.dim,
            "image_shape": image_shape(data.images),
            **model_params,  # only the settings that shape this run; ModelSpec defaults fill the rest
        }
    )
    cfg = TrainConfig(
        epochs=int(train_params["epochs"]),
        batch_size=int(train_params["batch_size"]),
        learning_rate=float(train_params["learning_rate"]),
        seed=int(seed),
        device=device,
        threads=int(train_params["threads"]),
        kl_warmup_epochs=int(train_params.get("kl_warmup_epochs", 0)),
    )
    start = time.perf_counter()
    net, history = train_model(spec, cfg, images, log)
    seconds = time.perf_counter() - start
    held_out = evaluate(net, data.images[~is_train])
    log(f"test split: reconstruction {held_out['reconstruction']:.4f}, kl {held_out['kl']:.4f} (n={held_out['n']})")
    check = training_check(history, evaluate(net, images)["reconstruction"],
                           mean_image_reconstruction(images, spec.likelihood, spec.gaussian_sigma), cfg.kl_warmup_epochs)
    if check["degenerate"]:
        log(f"WARNING degenerate training: {check['reason']}")
    # per-epoch seconds stay in the job log: artifacts hold no timings, so reruns give the same bytes
    columns = [c for c in history_columns(spec) if c != "seconds"]
    write_history_csv(history, columns, out["history"])
    meta = provenance(
        stage="train",
        config={"dataset": named.dataset, "model": spec.to_dict(), "train": cfg.to_dict()},
        inputs=[str(data_npz)],
        seed=seed,
        extra={
            "run": run,
            "device_used": str(resolve_device(device)),
            "trainer": trainer_description(spec, resolve_device(device)),
            "n_train": int(is_train.sum()),
            "n_test": int((~is_train).sum()),
            "final": {k: float(history[-1][k]) for k in ("loss", "reconstruction", "kl")} if history else {},
            "test": held_out,
            "training_check": check,
        },
    )
    save_state_dict(net, out["model"])
    meta["model_sha256"] = sha256_file(out["model"])
    write_json(out["meta"], meta)
    log(f"wrote {out['model']} ({meta['model_sha256'][:12]}) after {seconds:.1f}s")
