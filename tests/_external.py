"""Models trained elsewhere, as a user saves them: small encoders and decoders traced to TorchScript or exported with
torch.export, for the tests of external models (config ``external_models``)."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn


class PairEncoder(nn.Module):
    """An encoder that returns (mu, logvar), as a VAE's does."""

    def __init__(self, channels: int, side: int, dim: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Flatten(), nn.Linear(channels * side * side, 32), nn.ReLU())
        self.mu, self.logvar = nn.Linear(32, dim), nn.Linear(32, dim)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.body(x)
        return self.mu(h), self.logvar(h)


class BlendDecoder(nn.Module):
    """A decoder of operations the explorer page does not run (tanh, a product, a sum, repeat)."""

    def __init__(self, channels: int, side: int, dim: int) -> None:
        super().__init__()
        self.shape = (channels, side // 2, side // 2)
        self.linear = nn.Linear(dim, channels * (side // 2) ** 2)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.linear(z).view(-1, *self.shape).repeat(1, 1, 2, 2)) * 0.5 + 0.5


def conv_decoder(channels: int, side: int, dim: int) -> nn.Module:
    """A decoder of layers the page runs: linear, ReLU, unflatten, transposed and 'same' convolutions, upsampling,
    leaky ReLU and a sigmoid (``side`` divisible by 4)."""
    quarter = side // 4
    return nn.Sequential(nn.Linear(dim, 8 * quarter * quarter), nn.ReLU(), nn.Unflatten(1, (8, quarter, quarter)),
                         nn.ConvTranspose2d(8, 6, 4, stride=2, padding=1), nn.LeakyReLU(0.1),
                         nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(6, channels, 3, padding=1), nn.Sigmoid())


def mlp_decoder(channels: int, side: int, dim: int) -> nn.Module:
    return nn.Sequential(nn.Linear(dim, 32), nn.ReLU(), nn.Linear(32, channels * side * side),
                         nn.Unflatten(1, (channels, side, side)), nn.Sigmoid())


def _seeded(module: nn.Module, seed: int) -> nn.Module:
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.3)
    return module.eval()


def save_traced(module: nn.Module, example: torch.Tensor, path: Path, seed: int = 0) -> Path:
    """``module`` (weights seeded) traced with ``example`` and saved with ``torch.jit.save``."""
    torch.jit.save(torch.jit.trace(_seeded(module, seed), example), str(path))
    return path


def save_exported(module: nn.Module, example: torch.Tensor, path: Path, seed: int = 0, dynamic: bool = True) -> Path:
    """``module`` (weights seeded) exported with a dynamic batch size (or a fixed one) and saved with
    ``torch.export.save``."""
    shapes = ({0: torch.export.Dim("batch")},) if dynamic else None
    torch.export.save(torch.export.export(_seeded(module, seed), (example,), dynamic_shapes=shapes), str(path))
    return path


def user_models(folder: Path, channels: int, side: int) -> dict[str, dict[str, object]]:
    """Two external models as a user would hand them over, latent dim 3: ``traced`` (TorchScript, a (mu, logvar)
    encoder and an MLP decoder) and ``exported`` (torch.export, a convolutional encoder and a decoder the page cannot
    run); config ``external_models`` entries without the dataset."""
    folder.mkdir(parents=True, exist_ok=True)
    images = torch.rand(4, channels, side, side)
    encoder2 = nn.Sequential(nn.Conv2d(channels, 4, 4, stride=2, padding=1), nn.ReLU(), nn.Flatten(),
                             nn.Linear(4 * (side // 2) ** 2, 3))
    return {
        "traced": {"encoder": str(save_traced(PairEncoder(channels, side, 3), images, folder / "encoder.pt", 1)),
                   "decoder": str(save_traced(mlp_decoder(channels, side, 3), torch.zeros(4, 3), folder / "decoder.pt", 2)),
                   "latent_dim": 3},
        "exported": {"encoder": str(save_exported(encoder2, images, folder / "encoder.pt2", 3)),
                     "decoder": str(save_exported(BlendDecoder(channels, side, 3), torch.zeros(4, 3), folder / "decoder.pt2", 4)),
                     "latent_dim": 3},
    }
