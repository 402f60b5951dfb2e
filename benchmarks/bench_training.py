"""Training throughput: latentwalk's trainer against a pytorch/examples-style loop, same model, data, batch and epochs.

The reference is the loop of pytorch/examples' ``vae/main.py``, written out here: a DataLoader over the images
(shuffle=True, so a fresh random index per step), ``torch.optim.Adam(lr=1e-3)`` with its defaults, sigmoid
outputs with ``binary_cross_entropy(reduction="sum")`` plus the KL term, and ``loss.item()`` every step. The MLP is
the example's 784-400-20 VAE; the conv model is latentwalk's conv architecture trained by the same reference loop.
Both run at one thread. The FLOP rate of a step is counted by ``torch.utils.flop_counter`` (matrix products and
convolutions, forward and backward) and compared with the same thread's float32 rate on a 2048 x 2048 product,
measured right before each timed run (the median of those).
"""

from __future__ import annotations

import time

import numpy as np
import torch
from common import MNIST, Row, median_of
from torch.nn import functional as F

from latentwalk.model.networks import ModelSpec, build_model, loss_terms
from latentwalk.model.training import TrainConfig, train_model


def images_28(n: int = 10_000) -> tuple[np.ndarray, str]:
    """MNIST's 10k test images ``(N, 28, 28, 1)`` from ../shared/data/mnist when present, else n synthetic 28 x 28
    line images."""
    if (MNIST / "t10k-images-idx3-ubyte.gz").exists():
        from latentwalk.data.idx import find_mnist_files, load_mnist_arrays

        _, _, images, _ = load_mnist_arrays(find_mnist_files(MNIST))
        return (images.astype(np.float32) / 255.0)[:n, :, :, None], "MNIST t10k"
    from latentwalk.data.prepare import make_lines

    return make_lines(n, 0.2, 0, size=28, length=13.0).images.astype(np.float32), "synthetic 28x28 lines"


def reference_loop(spec: ModelSpec, images: np.ndarray, epochs: int, batch_size: int = 128, seed: int = 0,
                   device: str = "cpu") -> tuple[float, float]:
    """pytorch/examples' VAE training loop; returns (seconds, mean loss per image over the last epoch).

    As in the example, the images stay in host memory and each batch is moved to ``device`` as it is drawn."""
    torch.manual_seed(seed)
    model = build_model(spec).to(device)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    data = torch.as_tensor(images).permute(0, 3, 1, 2).contiguous()  # (N, C, H, W), as torchvision's ToTensor gives
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(data), batch_size=batch_size, shuffle=True)
    start = time.perf_counter()
    last = 0.0
    for _ in range(epochs):
        model.train()
        train_loss = 0.0
        for (x,) in loader:
            x = x.to(device)
            optimiser.zero_grad()
            mu, logvar = model.encode(x)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
            recon = torch.sigmoid(model.decode_logits(z))
            bce = F.binary_cross_entropy(recon, x, reduction="sum")
            kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
            loss = bce + kld
            loss.backward()
            train_loss += loss.item()
            optimiser.step()
        last = train_loss / len(data)
    return time.perf_counter() - start, last


def ours(spec: ModelSpec, images: np.ndarray, epochs: int, batch_size: int = 128, device: str = "cpu") -> tuple[float, float]:
    """latentwalk's trainer; returns (seconds, mean loss per image over the last epoch)."""
    cfg = TrainConfig(epochs=epochs, batch_size=batch_size, seed=0, device=device, threads=1)
    start = time.perf_counter()
    _, history = train_model(spec, cfg, images)
    return time.perf_counter() - start, history[-1]["loss"]


def step_flops(spec: ModelSpec, batch_size: int = 128) -> float:
    """FLOPs of one training step (forward and backward) at ``batch_size``, counted by torch's flop counter."""
    from torch.utils.flop_counter import FlopCounterMode

    model = build_model(spec)
    x = torch.rand(batch_size, *spec.image_shape)
    with FlopCounterMode(display=False) as counter:
        loss, _, _ = loss_terms(model, x, torch.randn(batch_size, spec.latent_dim))
        loss.backward()
    return float(counter.get_total_flops())


def matmul_rate(size: int = 2048, repeats: int = 7) -> float:
    """This thread's float32 matrix-product rate in FLOP/s (median over ``repeats`` products, after warm-up)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    for _ in range(3):
        torch.mm(a, b)

    def once() -> float:
        start = time.perf_counter()
        torch.mm(a, b)
        return 2 * size**3 / (time.perf_counter() - start)

    return median_of(repeats, once)[0]


def run(repeats: int = 3, quick: bool = False) -> list[Row]:
    torch.set_num_threads(1)
    images, source = images_28()
    rows: list[Row] = []
    # The ceiling is measured beside every timed training run, not once: this machine's speed drifts within
    # minutes, and a ceiling taken at another moment than the training would move the share by as much.
    rates = [matmul_rate()]
    cases: list[tuple[str, ModelSpec, int, int]] = [
        ("mlp 784-400-20 VAE", ModelSpec("vae", 20, (28, 28), hidden=(400,), likelihood="bernoulli"), 5, 128),
        ("conv VAE (32, 64, 256), z20", ModelSpec("vae", 20, (28, 28), architecture="conv", likelihood="bernoulli"),
         1 if quick else 2, 128),
    ]
    for name, spec, epochs, batch in cases:
        samples = epochs * len(images)
        ours(spec, images, 1)  # warm-up: first-call costs (allocator, kernels) are paid once per process
        mine: list[tuple[float, float]] = []
        theirs: list[tuple[float, float]] = []
        ceiling: list[float] = []
        for _ in range(repeats):  # interleaved, so drift of the machine hits all alike
            ceiling.append(matmul_rate(repeats=3))
            mine.append(ours(spec, images, epochs, batch))
            theirs.append(reference_loop(spec, images, epochs, batch))
        rates += ceiling
        rate = float(np.median(ceiling))
        ours_s = float(np.median([s for s, _ in mine]))
        ref_s = float(np.median([s for s, _ in theirs]))
        ours_loss, ref_loss = mine[-1][1], theirs[-1][1]
        per_sample = step_flops(spec, batch) / batch  # FLOPs of one sample's forward and backward
        flops = per_sample * samples / ours_s
        label = f"{name}, {source}, batch {batch}, {epochs} epochs"
        rows.append(Row("training", f"{label}: reference samples/s", samples / ref_s, "samples/s"))
        rows.append(Row("training", f"{label}: latentwalk samples/s", samples / ours_s, "samples/s", "reference loop",
                        ref_s / ours_s))
        gap = abs(ours_loss / ref_loss - 1)
        rows.append(Row("training", f"{label}: final loss (latentwalk / reference)", ours_loss, "nats/image",
                        f"reference {ref_loss:.3f}", ours_loss / ref_loss, "within 1%", gap <= 0.01))
        rows.append(Row("training", f"{label}: latentwalk FLOP rate", flops / 1e9, "GFLOP/s",
                        f"matmul rate beside it, {rate / 1e9:.1f} GFLOP/s", flops / rate))
        ref_flops = per_sample * samples / ref_s
        rows.append(Row("training", f"{label}: reference FLOP rate", ref_flops / 1e9, "GFLOP/s",
                        f"matmul rate beside it, {rate / 1e9:.1f} GFLOP/s", ref_flops / rate))
    rows.insert(0, Row("training", "float32 matmul 2048x2048, 1 thread", float(np.median(rates)) / 1e9, "GFLOP/s",
                       note=f"the ceiling; {min(rates) / 1e9:.1f}-{max(rates) / 1e9:.1f} across the section"))
    return rows

