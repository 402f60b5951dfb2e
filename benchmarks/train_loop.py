"""Benchmark: latentwalk's training loop against a conventional reference loop, measured in the same run.

The reference is how such loops are often written: a DataLoader over a
TensorDataset (shuffle=True), a plain (non-fused, non-foreach) Adam, and a
``loss.item()`` per step. latentwalk's loop keeps the data as one tensor,
shuffles indices once per epoch, uses a fused Adam and reads the loss back
once per epoch. Both train the same model on the same data for the same
number of epochs; the script prints the median of several repeats and the
ratio.

    python benchmarks/train_loop.py [--repeats 5] [--epochs 30] [--dataset digits|lines]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from latentwalk.datasets import load_digits, make_lines
from latentwalk.models import ModelSpec, build_model, loss_terms
from latentwalk.training import TrainConfig, train_model


def reference_loop(spec: ModelSpec, images: np.ndarray, epochs: int, batch_size: int, seed: int) -> float:
    """A conventional loop; returns the last epoch's mean loss."""
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    model = build_model(spec)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, foreach=False, fused=False)
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.as_tensor(images)), batch_size=batch_size, shuffle=True
    )
    last = 0.0
    for _ in range(epochs):
        losses = []
        for (batch,) in loader:
            noise = torch.randn(batch.shape[0], spec.latent_dim) if spec.variational else None
            loss, _, _ = loss_terms(model, batch, noise)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            losses.append(loss.item())  # a host sync every step
        last = float(np.mean(losses))
    return last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--dataset", choices=["digits", "lines"], default="digits")
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()

    data = load_digits(0.2, 0) if args.dataset == "digits" else make_lines(4000, 0.2, 0)
    images = data.images[data.split == "train"].astype(np.float32)
    spec = ModelSpec(kind="vae", latent_dim=2, image_shape=tuple(images.shape[1:]))
    cfg = TrainConfig(epochs=args.epochs, batch_size=args.batch_size, seed=0, device="cpu", threads=1)

    ours, ref = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        _, history = train_model(spec, cfg, images)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        ref_loss = reference_loop(spec, images, args.epochs, args.batch_size, 0)
        ref.append(time.perf_counter() - start)
    m_ours, m_ref = statistics.median(ours), statistics.median(ref)
    print(f"dataset {args.dataset}: {len(images)} train images {images.shape[1:]}, vae z=2, "
          f"{args.epochs} epochs, batch {args.batch_size}, 1 thread, {args.repeats} repeats")
    print(f"latentwalk loop : median {m_ours:.3f} s  (runs {', '.join(f'{t:.3f}' for t in ours)}); final loss {history[-1]['loss']:.3f}")
    print(f"reference loop  : median {m_ref:.3f} s  (runs {', '.join(f'{t:.3f}' for t in ref)}); final loss {ref_loss:.3f}")
    print(f"speed-up        : {m_ref / m_ours:.2f}x")


if __name__ == "__main__":
    main()
