"""The published line benchmark (Berthelot, Raffel, Roy and Goodfellow 2018, Table 1), run as its authors ran it.

Their code (brain-research/acai) fixes the protocol: the all-convolutional networks (``acai_conv``: depth 16, four
scales, a 2 x 2 x 16 latent, He initialisation), a linear output scored by the mean squared error on [-1, 1]
images (the VAE: a sigmoid output and the Bernoulli likelihood), Adam at 1e-4 for every player, batches of 64
drawn from an endless stream of lines at fresh uniform angles, and every 65,536 samples an evaluation: 256 pairs
of fresh random test lines encoded (the VAE: a posterior sample each), lerped in 16 frames, decoded and scored
against 10,000 reference lines (Mean Distance and Mean Smoothness, :mod:`latentwalk.measure.quality`). A run's
value is the median of its last 20 evaluations; the table gives the mean and the standard deviation (``ddof`` 0)
over runs. The budget is ``samples`` (the paper's 2^24); below ``2 x median_of`` evaluations the interval shrinks so
that a small budget still has them (:func:`eval_interval`).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch

from latentwalk.core.io import LatentwalkError, PathLike, provenance, write_json
from latentwalk.core.logs import Log, quiet
from latentwalk.data.lines import render_lines_acai
from latentwalk.measure.paper import LABELS, LINES, PAPER_PROTOCOL, PAPER_TABLE, budget_samples, is_reduced
from latentwalk.measure.quality import mean_smoothness, nearest_lines, reference_lines, smoothness, to_benchmark_scale
from latentwalk.model.networks import LatentAutoencoder, ModelSpec, build_model, resolve_device, to_input
from latentwalk.model.training import flush_denormals, make_optimisers, seed_everything, training_step

__all__ = ["eval_interval", "line_batches", "benchmark_spec", "lerp_latents", "score_walks", "evaluate_protocol",
           "run_value", "summarize_runs", "acai_protocol"]

def eval_interval(samples: int, eval_every: int, batch_size: int, median_of: int) -> int:
    """Samples between evaluations: ``eval_every`` (a whole number of batches) while the budget holds at least
    ``2 median_of`` evaluations, else ``samples / (2 median_of)`` rounded down to whole batches (at least one), so
    the run's median covers its second half."""
    every = max(batch_size, eval_every // batch_size * batch_size)
    if samples // every >= 2 * median_of:
        return every
    return max(batch_size, samples // (2 * median_of) // batch_size * batch_size)


def line_batches(rng: np.random.Generator, batch_size: int) -> Iterator[np.ndarray]:
    """The endless training stream: every batch ``(batch_size, 32, 32, 1)`` in [0, 1] draws fresh angles uniform
    in [0, 2 pi) from ``rng`` (seeded by the caller, so the stream is reproducible)."""
    while True:
        yield render_lines_acai(rng.uniform(0.0, 2.0 * np.pi, batch_size), LINES["size"], LINES["width"])[..., None]


def benchmark_spec(kind: str, model_params: Mapping[str, Any], latent_dim: int) -> ModelSpec:
    """The benchmark's model of ``kind``: the authors' input scale ([-1, 1]) and output (linear with the mean
    squared error; the VAE a sigmoid with the Bernoulli likelihood); ``model_params`` give the architecture and
    its settings and the kinds' weights (ACAI's lambda and gamma, dropout, denoising noise)."""
    spec = ModelSpec.from_dict({"kind": kind, "latent_dim": int(latent_dim), "image_shape": (1, LINES["size"], LINES["size"]),
                                "signed_input": True, **model_params, "likelihood": "mse"})
    return ModelSpec.from_dict({**spec.to_dict(), "likelihood": "bernoulli"}) if spec.variational else spec


def lerp_latents(z_a: np.ndarray, z_b: np.ndarray, frames: int) -> np.ndarray:
    """``(pairs, frames, d)``: ``(1 - t) z_a + t z_b`` at ``t = k / (frames - 1)``, both ends included."""
    t = (np.arange(frames) / (frames - 1))[None, :, None]
    return (1.0 - t) * z_a[:, None, :] + t * z_b[:, None, :]


def score_walks(images: np.ndarray, angles: np.ndarray, references: np.ndarray) -> tuple[float, float]:
    """(Mean Distance, Mean Smoothness) of decoded walks ``(paths, frames, H, W)`` on the [0, 1] scale, scored as
    the benchmark scores them against ``references`` (``quality.reference_lines``)."""
    paths, frames = images.shape[:2]
    distance, index = nearest_lines(to_benchmark_scale(images.reshape(paths * frames, -1)), references)
    found = angles[index].reshape(paths, frames)
    return float(np.mean(distance)), mean_smoothness(np.array([smoothness(row) for row in found]))


def evaluate_protocol(model: LatentAutoencoder, endpoints: np.ndarray, frames: int, angles: np.ndarray,
                      references: np.ndarray, generator: torch.Generator) -> tuple[float, float]:
    """Encode the endpoint images ``(pairs, 2, H, W, C)`` (a VAE: one posterior sample each, drawn from
    ``generator``, as the authors' ``vae.py`` encodes), lerp ``frames`` frames, decode and score."""
    pairs = endpoints.shape[0]
    device = next(model.parameters()).device  # evaluated where it trains (CPU or GPU)
    with torch.inference_mode():
        x = torch.as_tensor(np.ascontiguousarray(endpoints.reshape(2 * pairs, *endpoints.shape[2:])), device=device)
        mu, logvar = model.encode(to_input(x))
        if logvar is not None:
            mu = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=generator, device=device, dtype=mu.dtype)
        z = mu.double().cpu().numpy().reshape(pairs, 2, -1)
        walk = lerp_latents(z[:, 0], z[:, 1], frames)
        latents = torch.as_tensor(walk.reshape(pairs * frames, -1), dtype=torch.float32, device=device)
        images = model.decode(latents).cpu().numpy()
    return score_walks(images.reshape(pairs, frames, *images.shape[2:]), angles, references)


def run_value(evaluations: Sequence[Mapping[str, Any]], key: str, median_of: int) -> float | None:
    """A run's value: the median of its last ``median_of`` evaluations (by samples seen), null when undefined."""
    last = sorted(evaluations, key=lambda e: e["samples_seen"])[-median_of:]
    return _number(float(np.median([np.nan if e[key] is None else e[key] for e in last])))


def summarize_runs(results: Sequence[Mapping[str, Any]], models: Sequence[str]) -> list[dict[str, Any]]:
    """One row per model: Mean Distance (x 1e-3) and Smoothness, mean and standard deviation over seeds (``ddof`` 0,
    as the authors' ``np.std``; NaN when a seed's value is undefined), the seeds, the protocol the runs ran and
    whether it is reduced, and the paper's numbers beside."""
    rows = []
    for model in models:
        mine = [r for r in results if r["model"] == model]
        if not mine:
            raise ValueError(f"no benchmark result for model {model!r}")
        md = np.array([np.nan if r["mean_distance"] is None else r["mean_distance"] for r in mine], dtype=float) * 1e3
        sm = np.array([np.nan if r["smoothness"] is None else r["smoothness"] for r in mine], dtype=float)
        paper = PAPER_TABLE.get(model, (np.nan,) * 4)
        protocol = mine[0]["protocol"]
        rows.append({
            "model": model, "label": LABELS.get(model, model), "seeds": len(mine),
            "mean_distance_e3": float(np.mean(md)), "mean_distance_e3_std": float(np.std(md)),
            "smoothness": float(np.mean(sm)), "smoothness_std": float(np.std(sm)),
            **{key: protocol[key] for key in PAPER_PROTOCOL}, "reduced_budget": is_reduced(protocol),
            "paper_mean_distance_e3": paper[0], "paper_mean_distance_e3_std": paper[1],
            "paper_smoothness": paper[2], "paper_smoothness_std": paper[3],
        })
    return rows


def _number(value: float) -> float | None:
    """A metric for JSON: undefined values (NaN, as the benchmark's semantics give them) become null."""
    return float(value) if np.isfinite(value) else None


# --------------------------------------------------------------------------- rule acai_protocol


def acai_protocol(model: str, seed: int, protocol: Mapping[str, Any], model_params: Mapping[str, Any],
                  train_params: Mapping[str, Any], out_json: PathLike, log: Log = quiet) -> None:
    """Train ``model`` with ``seed`` on the endless line stream for ``protocol["samples"]`` samples and evaluate it
    on the protocol's schedule (:func:`eval_interval`); write every evaluation and the run's medians to
    ``out_json``. ``protocol`` holds the budget and schedule keys of :data:`PAPER_PROTOCOL` and ``latent_dim``;
    ``train_params`` the threads and device."""
    resolved = {key: protocol[key] for key in PAPER_PROTOCOL}
    resolved["samples"] = samples = budget_samples(protocol["samples"])
    batch, median_of = int(protocol["batch_size"]), int(protocol["median_of"])
    resolved["eval_every"] = every = eval_interval(samples, int(protocol["eval_every"]), batch, median_of)
    spec = benchmark_spec(model, {**model_params, "architecture": protocol["architecture"]}, int(protocol["latent_dim"]))
    device = resolve_device(str(train_params["device"]))
    generator = seed_everything(int(seed), int(train_params["threads"]), device)
    net = build_model(spec).to(device)
    optimisers = make_optimisers(net, float(protocol["learning_rate"]), device)
    stream = line_batches(np.random.default_rng([int(seed), 0]), batch)
    test_rng = np.random.default_rng([int(seed), 1])  # fresh test pairs at every evaluation, apart from training
    sampler = torch.Generator(device=device)
    sampler.manual_seed(int(seed) + 1)
    angles, references = reference_lines(LINES)
    pairs, frames = int(protocol["eval_pairs"]), int(protocol["frames"])
    log(f"{model} seed {seed}: {spec.architecture} ({spec.likelihood}), {samples:,} samples in batches of {batch}, "
        f"evaluated every {every:,} ({pairs} pairs x {frames} frames), device {device}")
    evaluations: list[dict[str, Any]] = []
    seen, start = 0, time.perf_counter()
    with flush_denormals():
        while seen < samples:
            net.train()
            images = next(stream)[: samples - seen]
            losses = training_step(net, to_input(torch.as_tensor(images, device=device)), generator, optimisers)
            seen += len(images)
            if seen % every:
                continue
            loss = losses.tolist()
            if not np.isfinite(loss).all():
                raise LatentwalkError(f"{model} seed {seed}: non-finite loss {loss} after {seen} samples")
            net.eval()
            endpoints = render_lines_acai(test_rng.uniform(0.0, 2.0 * np.pi, 2 * pairs), LINES["size"], LINES["width"])
            md, sm = evaluate_protocol(net, endpoints.reshape(2, pairs, *endpoints.shape[1:], 1).swapaxes(0, 1), frames,
                                       angles, references, sampler)
            evaluations.append({"samples_seen": seen, "mean_distance": _number(md), "smoothness": _number(sm),
                                "loss": loss[0]})
            log(f"{seen:>10,} samples: Mean Distance {md * 1e3:.3f}e-3, Mean Smoothness {sm:.3f}, loss {loss[0]:.5f} "
                f"({time.perf_counter() - start:.0f}s)")
    record = provenance(
        stage="acai_protocol",
        config={"model": spec.to_dict(), "protocol": resolved, "device": str(train_params["device"])},
        inputs=[], seed=int(seed),
        extra={"model": model, "seed": int(seed), "protocol": resolved, "evaluations": evaluations,
               "mean_distance": run_value(evaluations, "mean_distance", median_of),
               "smoothness": run_value(evaluations, "smoothness", median_of)},
    )
    write_json(out_json, record)
    log(f"{model} seed {seed}: median of the last {min(median_of, len(evaluations))} of {len(evaluations)} evaluations: "
        f"Mean Distance {record['mean_distance']}, Mean Smoothness {record['smoothness']}")
