"""A run's weights on disk: written by the train job, loaded (checked against its meta.json) by every job that
needs the model, on the configured device."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import torch

from latentwalk.core.io import LatentwalkError, atomic_path, read_json, sha256_file
from latentwalk.model.networks import LatentAutoencoder, ModelSpec, build_model

__all__ = ["resolve_device", "save_state_dict", "load_model", "load_run_model"]


def resolve_device(name: str) -> torch.device:
    """Map ``auto|cpu|cuda`` to a torch device; asking for cuda without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise LatentwalkError("config key device: 'cuda' requested but torch sees no CUDA device")
    if name not in ("cpu", "cuda"):
        raise LatentwalkError(f"config key device: {name!r} is not allowed; allowed values: 'auto', 'cpu', 'cuda'")
    return torch.device(name)


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
