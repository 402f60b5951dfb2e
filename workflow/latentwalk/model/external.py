"""Models trained elsewhere (config ``external_models``): a user's encoder and decoder, each saved with TorchScript
(``torch.jit.save``) or torch.export (``torch.export.save``), analysed like a run trained here but never trained.

Rule import_model (:func:`import_model`) loads both files, checks them on the run's dataset (the encoder's output
width, the decoder's output shape and range, no NaN) and writes the run's ``meta.json`` with their SHA-256; every
later job loads them through :func:`latentwalk.model.checkpoint.load_run_model`, which checks those digests first.
Images reach the encoder as float32 ``(N, C, H, W)`` in [0, 1]; the encoder returns ``z`` or ``(mu, logvar)`` (the
means are the latents); the decoder returns images ``(N, C, H, W)`` in [0, 1].
"""

from __future__ import annotations

import time
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from latentwalk.core.io import LatentwalkError, PathLike, provenance, sha256_file, write_json
from latentwalk.core.logs import Log, quiet
from latentwalk.core.registry import EXTERNAL_KIND, Run
from latentwalk.data.dataset import load_dataset
from latentwalk.model.networks import image_shape, resolve_device, to_input, use_threads

__all__ = ["FORMATS", "ExternalSpec", "ExternalModel", "file_format", "load_module", "load_external", "check_finite", "import_model"]

#: How a model file can be saved: TorchScript (``torch.jit.save``) or an exported program (``torch.export.save``).
FORMATS: tuple[str, ...] = ("torchscript", "export")
#: How far outside [0, 1] a decoded pixel may be (float rounding) before the decoder is refused.
RANGE_SLACK = 1e-3


@dataclass(frozen=True)
class ExternalSpec:
    """What the pipeline knows of an external model: its latent dim and image shape ``(C, H, W)``; no prior."""

    latent_dim: int
    image_shape: tuple[int, int, int]
    kind: str = EXTERNAL_KIND
    variational: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "latent_dim": self.latent_dim, "image_shape": list(self.image_shape)}


def file_format(path: PathLike) -> str:
    """``torchscript`` or ``export``, from the archive's entries; anything else is a one-line error naming the file."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (OSError, zipfile.BadZipFile) as exc:
        detail = "cannot be read" if isinstance(exc, OSError) else "is not a zip archive"
        raise LatentwalkError(f"{path}: {detail}, so neither a TorchScript file (torch.jit.save) nor an exported "
                              "program (torch.export.save)") from None
    if any(name.endswith("/archive_format") for name in names):
        return "export"
    if any(name.endswith("/constants.pkl") or "/code/" in name for name in names):
        return "torchscript"
    hint = " (a state_dict or pickled module from torch.save: save it with torch.jit.trace or torch.export)" \
        if any(name.endswith("/data.pkl") for name in names) else ""
    raise LatentwalkError(f"{path}: neither a TorchScript file (torch.jit.save) nor an exported program "
                          f"(torch.export.save){hint}")


def load_module(path: PathLike) -> nn.Module:
    """The module saved in ``path`` (either format), in eval mode on the CPU."""
    kind = file_format(path)
    try:
        module = torch.jit.load(str(path), map_location="cpu") if kind == "torchscript" else torch.export.load(str(path)).module()
    except Exception as exc:  # noqa: BLE001 (torch raises many kinds; the user needs the file and the first line)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise LatentwalkError(f"{path}: cannot load the {kind} file: {first[:200]}") from exc
    return module.eval() if kind == "torchscript" else module


class ExternalModel(nn.Module):
    """A user's encoder and decoder behind the interface of the models trained here (``encode``, ``decode``, ``spec``),
    checking the shape of every output against the run's."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, spec: ExternalSpec, files: Mapping[str, PathLike]) -> None:
        super().__init__()
        self.encoder, self.decoder, self.spec = encoder, decoder, spec
        self.files = {key: str(files[key]) for key in ("encoder", "decoder")}

    def encode(self, x: Tensor) -> tuple[Tensor, None]:
        """Latent means ``(B, d)`` of images ``(B, C, H, W)`` in [0, 1] (an encoder's ``logvar`` is not used)."""
        out = self._call("encoder", x)
        mu = out[0] if isinstance(out, tuple | list) and len(out) == 2 else out
        if not isinstance(mu, Tensor) or mu.shape != (x.shape[0], self.spec.latent_dim):
            got = tuple(mu.shape) if isinstance(mu, Tensor) else type(out).__name__
            raise LatentwalkError(f"{self.files['encoder']}: the encoder returned {got} for {x.shape[0]} images; "
                                  f"expected (N, latent_dim) = ({x.shape[0]}, {self.spec.latent_dim}), or a pair (mu, logvar)")
        return mu, None

    def decode(self, z: Tensor) -> Tensor:
        """Images ``(B, C, H, W)`` for latents ``(B, d)``."""
        out = self._call("decoder", z)
        wanted = (z.shape[0], *self.spec.image_shape)
        if not isinstance(out, Tensor) or tuple(out.shape) != wanted:
            got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
            c, h, w = self.spec.image_shape
            raise LatentwalkError(f"{self.files['decoder']}: the decoder returned {got} for {z.shape[0]} latents; the "
                                  f"dataset's images need {wanted} (channels x size x size = {c} x {h} x {w})")
        return out

    def _call(self, part: str, x: Tensor) -> Any:
        module = self.encoder if part == "encoder" else self.decoder
        try:
            return module(x)
        except LatentwalkError:
            raise
        except Exception as exc:  # noqa: BLE001 (a user's model can raise anything; name it in one line)
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            if "Guard failed" in first and ".size()[0]" in first:
                first += " (exported for a fixed batch size: export with a dynamic batch dimension, torch.export.Dim('batch'))"
            raise LatentwalkError(f"{self.files[part]}: the {part} fails on input {tuple(x.shape)} {x.dtype}: {first}") from exc


def load_external(meta: Mapping[str, Any], files: Mapping[str, PathLike], device: str | torch.device = "cpu") -> ExternalModel:
    """The external model a run's ``meta.json`` (``meta``) records, from ``files['encoder']`` and ``files['decoder']``,
    each checked first against the SHA-256 recorded when the run was imported."""
    recorded = meta["external"]
    for part in ("encoder", "decoder"):
        actual = sha256_file(files[part])
        if actual != recorded[f"{part}_sha256"]:
            raise LatentwalkError(f"{files[part]}: SHA-256 {actual[:12]}... is not the {part} this run was imported with "
                                  f"({recorded[f'{part}_sha256'][:12]}...); rerun import_model for {meta['run']}")
    model = meta["config"]["model"]
    spec = ExternalSpec(int(model["latent_dim"]), tuple(int(v) for v in model["image_shape"]))  # type: ignore[arg-type]
    return ExternalModel(load_module(files["encoder"]), load_module(files["decoder"]), spec, files).to(device)


def check_finite(values: Tensor, model: Any, part: str, batch: int, first: int) -> None:
    """Stop at the first batch of ``model``'s ``part`` (encoder or decoder) output with a NaN or an infinity, naming
    the file (an external model's) and the batch's rows."""
    if not torch.isfinite(values).all():
        where = model.files[part] if isinstance(model, ExternalModel) else f"{model.spec.kind} z={model.spec.latent_dim}"
        rows = f"rows {first}..{first + values.shape[0] - 1}"
        raise LatentwalkError(f"{where}: the {part} returned NaN or infinite values for batch {batch} ({rows})")


def import_model(
    run: str,
    data_npz: PathLike,
    files: Mapping[str, PathLike],
    batch_size: int,
    device: str,
    out_meta: PathLike,
    log: Log = quiet,
    threads: int = 1,
) -> None:
    """Check an external model on its run's dataset and write the run's ``meta.json``.

    ``files`` names the ``encoder`` and ``decoder``. Every image is encoded and decoded in batches of ``batch_size``:
    the encoder must give ``(N, latent_dim)`` (or ``(mu, logvar)``), the decoder ``(N, C, H, W)`` of the dataset's
    images in [0, 1], neither NaN. ``meta.json`` records both files with their format and SHA-256, the model's shape
    and the mean squared error of its reconstructions per split (pixels and channels averaged). Torch runs on
    ``threads`` threads.
    """
    named = Run.parse(run)
    use_threads(threads)
    torch_device = resolve_device(device)
    data = load_dataset(data_npz)
    spec = ExternalSpec(named.dim, image_shape(data.images))
    model = ExternalModel(load_module(files["encoder"]), load_module(files["decoder"]), spec, files).to(torch_device)
    start = time.perf_counter()
    errors = np.zeros(len(data.images))
    with torch.inference_mode():
        for k, first in enumerate(range(0, len(data.images), batch_size)):
            x = to_input(torch.as_tensor(np.ascontiguousarray(data.images[first : first + batch_size]), device=torch_device))
            mu, _ = model.encode(x)
            check_finite(mu, model, "encoder", k, first)
            decoded = model.decode(mu)
            check_finite(decoded, model, "decoder", k, first)
            low, high = float(decoded.min()), float(decoded.max())
            if low < -RANGE_SLACK or high > 1 + RANGE_SLACK:
                raise LatentwalkError(f"{model.files['decoder']}: decoded pixels range over [{low:.3g}, {high:.3g}] in batch {k}; "
                                      "the decoder must return images in [0, 1] (a final sigmoid missing?)")
            errors[first : first + len(x)] = (decoded - x).square().flatten(1).mean(dim=1).double().cpu().numpy()
    mse = {split: float(errors[data.split == split].mean()) if (data.split == split).any() else None for split in ("train", "test")}
    formats = {part: file_format(files[part]) for part in ("encoder", "decoder")}
    meta = provenance(
        stage="import_model",
        config={"dataset": named.dataset, "model": spec.to_dict()},
        inputs=[str(data_npz), str(files["encoder"]), str(files["decoder"])],
        extra={
            "run": run,
            "external": {**{part: str(files[part]) for part in ("encoder", "decoder")},
                         **{f"{part}_sha256": sha256_file(files[part]) for part in ("encoder", "decoder")},
                         **{f"{part}_format": formats[part] for part in ("encoder", "decoder")}},
            "device_used": str(torch_device),
            "n_train": int((data.split == "train").sum()),
            "n_test": int((data.split == "test").sum()),
            "test": {"n": int((data.split == "test").sum()), "mse": mse["test"], "reconstruction": None, "kl": None, "loss": None},
            "train": {"mse": mse["train"]},
        },
    )
    write_json(out_meta, meta)
    log(f"{run}: {formats['encoder']} encoder and {formats['decoder']} decoder checked on {len(data.images)} images in "
        f"{time.perf_counter() - start:.1f}s; reconstruction MSE train {mse['train']}, test {mse['test']}")
