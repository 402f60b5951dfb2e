"""Training throughput on a CUDA device: latentwalk's trainer against the pytorch/examples loop, MLP and conv VAEs,
batch 128 and 1024, with the same run's float32 matrix-product rate as the ceiling.

The models, data, losses and reference loop are those of ``bench_training`` (the reference keeps the images in host
memory and moves each batch to the device, as the example does; ours keeps the whole set on the device). The matmul
ceiling is an 8192 x 8192 float32 product with TF32 off (the trainer's matrix products run in full float32); the
TF32 rate is reported beside it, since cuDNN's convolutions may use TF32 (torch's default). Without a CUDA device
the section reports that and nothing else.
"""

from __future__ import annotations

import numpy as np
import torch
from bench_training import images_28, ours, reference_loop, step_flops
from common import Row, median_of

from latentwalk.model.networks import ModelSpec


def cuda_matmul_rate(size: int = 8192, repeats: int = 7, tf32: bool = False) -> float:
    """The device's float32 matrix-product rate in FLOP/s (median of ``repeats`` products timed by CUDA events)."""
    before = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        a, b = torch.randn(size, size, device="cuda"), torch.randn(size, size, device="cuda")
        for _ in range(3):
            torch.mm(a, b)
        torch.cuda.synchronize()

        def once() -> float:
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            torch.mm(a, b)
            end.record()
            end.synchronize()
            return 2 * size**3 / (start.elapsed_time(end) / 1e3)

        return median_of(repeats, once)[0]
    finally:
        torch.backends.cuda.matmul.allow_tf32 = before


def run(repeats: int = 3, quick: bool = False) -> list[Row]:
    if not torch.cuda.is_available():
        return [Row("gpu", "CUDA training throughput", float("nan"), "", note="no CUDA device on this machine")]
    images, source = images_28()
    name = torch.cuda.get_device_name()
    rate = cuda_matmul_rate()
    rows = [
        Row("gpu", f"float32 matmul 8192x8192, {name}", rate / 1e9, "GFLOP/s", note="the ceiling (TF32 off)"),
        Row("gpu", f"TF32 matmul 8192x8192, {name}", cuda_matmul_rate(tf32=True) / 1e9, "GFLOP/s"),
    ]
    epochs = 2 if quick else 20
    cases = [
        ("mlp 784-400-20 VAE", ModelSpec("vae", 20, (28, 28), hidden=(400,), likelihood="bernoulli")),
        ("conv VAE (32, 64, 256), z20", ModelSpec("vae", 20, (28, 28), architecture="conv", likelihood="bernoulli")),
    ]
    for label, spec in cases:
        for batch in (128, 1024):
            samples = epochs * len(images)
            ours(spec, images, 1, batch, device="cuda")  # warm-up: CUDA context, cuDNN plans, allocator
            reference_loop(spec, images, 1, batch, device="cuda")
            mine, theirs = [], []
            for _ in range(repeats):
                mine.append(ours(spec, images, epochs, batch, device="cuda"))
                theirs.append(reference_loop(spec, images, epochs, batch, device="cuda"))
            ours_s = float(np.median([s for s, _ in mine]))
            ref_s = float(np.median([s for s, _ in theirs]))
            ours_loss, ref_loss = mine[-1][1], theirs[-1][1]
            flops = step_flops(spec, batch) / batch * samples / ours_s
            case = f"{label}, {source}, CUDA, batch {batch}, {epochs} epochs"
            rows.append(Row("gpu", f"{case}: reference samples/s", samples / ref_s, "samples/s"))
            rows.append(Row("gpu", f"{case}: latentwalk samples/s", samples / ours_s, "samples/s", "reference loop",
                            ref_s / ours_s))
            rows.append(Row("gpu", f"{case}: final loss (latentwalk / reference)", ours_loss, "nats/image",
                            f"reference {ref_loss:.3f}", ours_loss / ref_loss))
            rows.append(Row("gpu", f"{case}: latentwalk FLOP rate", flops / 1e9, "GFLOP/s", "fp32 matmul rate",
                            flops / rate))
    return rows
