"""A run's weights on disk: written by the train job, loaded (checked against its meta.json) by every job that
needs the model, on the configured device."""

from __future__ import annotations

import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from latentwalk.core.io import LatentwalkError, PathLike, atomic_path, check_checkpoint, read_json
from latentwalk.model.external import ExternalModel, ExternalSpec, load_external
from latentwalk.model.networks import LatentAutoencoder, ModelSpec, build_model

__all__ = ["MODEL_FILES", "save_state_dict", "load_model", "load_run_model"]

#: A run's model files besides its meta.json: the weights trained here, or an external model's two files.
MODEL_FILES: tuple[str, ...] = ("model", "encoder", "decoder")


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


def load_run_model(files: Mapping[str, PathLike], device: str | torch.device = "cpu") -> tuple[Any, ModelSpec | ExternalSpec]:
    """A run's model and spec, from its ``files``: ``meta`` (the run's ``meta.json``) with ``model`` (the weights
    trained here) or ``encoder`` and ``decoder`` (an external model's, :mod:`latentwalk.model.external`). Either way
    the model has ``encode`` (images -> means, log-variances or None) and ``decode`` (latents -> images in [0, 1]).

    Every file is checked first against the SHA-256 that ``meta.json`` records: a swapped or edited checkpoint or
    model file raises :class:`LatentwalkError` naming it, as does a ``meta.json`` without a model spec.
    """
    meta_json = files["meta"]
    meta = read_json(meta_json)
    if "external" in meta:
        model: ExternalModel = load_external(meta, files, device)
        return model, model.spec
    model_pt = files["model"]
    try:
        spec = ModelSpec.from_dict(meta["config"]["model"])
    except (KeyError, TypeError) as exc:
        raise LatentwalkError(f"{meta_json}: no model spec under config.model; is this a run's meta.json?") from exc
    check_checkpoint(model_pt, meta_json)
    return load_model(model_pt, spec, device), spec
