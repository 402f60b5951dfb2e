"""Tests for the published line benchmark's protocol and table (latentwalk.measure.line_benchmark, rules acai_*)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from latentwalk.data.lines import draw_lines, render_lines_acai
from latentwalk.measure.line_benchmark import (
    acai_protocol,
    benchmark_spec,
    eval_interval,
    lerp_latents,
    line_batches,
    run_value,
    score_walks,
    summarize_runs,
)
from latentwalk.measure.line_table import acai_table
from latentwalk.measure.paper import LINES, PAPER_PROTOCOL, PAPER_TABLE, budget_samples
from latentwalk.measure.quality import reference_lines
from latentwalk.model.networks import build_model

ACAI = {"size": 32, "length": 15.0, "width": 2.0, "supersample": 8, "renderer": "acai"}
PARAMS = {"depth": 16, "latent_width": 2, "acai_lambda": 0.5, "acai_gamma": 0.2, "dropout": 0.5, "denoising_sigma": 0.5,
          "architecture": "acai_conv"}


def _conv(c_in: int, c_out: int, k: int = 3) -> int:
    return c_in * c_out * k * k + c_out


#: The authors' lib/layers.py at depth 16, 4 scales, latent 16, one colour, written out layer by layer.
AUTHORS_ENCODER = [_conv(1, 16, 1), _conv(16, 16), _conv(16, 16), _conv(16, 32), _conv(32, 32), _conv(32, 64), _conv(64, 64),
                   _conv(64, 128), _conv(128, 128), _conv(128, 256), _conv(256, 16)]
AUTHORS_DECODER = [_conv(16, 128), _conv(128, 128), _conv(128, 64), _conv(64, 64), _conv(64, 32), _conv(32, 32),
                   _conv(32, 16), _conv(16, 16), _conv(16, 16), _conv(16, 1)]


def test_acai_conv_is_the_authors_layout_with_their_initialisation() -> None:
    torch.manual_seed(0)
    ae = build_model(benchmark_spec("ae", PARAMS, 64))
    convs = [m for m in ae.encoder.modules() if isinstance(m, nn.Conv2d)]
    assert [sum(p.numel() for p in m.parameters()) for m in convs] == AUTHORS_ENCODER
    assert [sum(p.numel() for p in m.parameters()) for m in ae.decoder.modules() if isinstance(m, nn.Conv2d)] == AUTHORS_DECODER
    assert sum(p.numel() for p in ae.parameters()) == sum(AUTHORS_ENCODER) + sum(AUTHORS_DECODER) == 941_457
    x = torch.rand(3, 1, 32, 32)
    assert ae.encoder(x).shape == (3, 64) and ae.decode_logits(torch.zeros(3, 64)).shape == (3, 1, 32, 32)
    # leaky ReLU after every 3x3 convolution but the last of each network; none after the 1x1 input convolution
    layers = list(ae.encoder)
    assert isinstance(layers[1], nn.Conv2d) and sum(isinstance(m, nn.LeakyReLU) for m in layers) == 9
    assert all(m.negative_slope == 0.2 for m in ae.modules() if isinstance(m, nn.LeakyReLU))
    assert sum(isinstance(m, nn.AvgPool2d) for m in layers) == 4 and isinstance(list(ae.decoder)[-1], nn.Conv2d)
    # He's initialisation for leaky ReLU 0.2: std 1 / sqrt(1.04 fan_in), zero biases
    big = convs[-2]  # 128 -> 256, 294,912 weights
    assert big.weight.std().item() == pytest.approx((1.04 * 128 * 9) ** -0.5, rel=0.01)
    assert all(float(m.bias.detach().abs().max()) == 0.0 for m in convs)
    # the critic has the encoder's layout; the VAE adds dense mean and log-variance heads on the flattened map
    acai = build_model(benchmark_spec("acai", PARAMS, 64))
    assert sum(p.numel() for p in acai.critic.parameters()) == sum(AUTHORS_ENCODER)
    vae = build_model(benchmark_spec("vae", PARAMS, 64))
    assert sum(p.numel() for p in vae.encoder.parameters()) == sum(AUTHORS_ENCODER) + 64 * 128 + 128
    mu, logvar = vae.encode(x)
    assert mu.shape == logvar.shape == (3, 64)


def test_benchmark_models_see_signed_pixels_and_score_the_authors_loss() -> None:
    ae, vae = benchmark_spec("ae", PARAMS, 64), benchmark_spec("vae", PARAMS, 64)
    assert (ae.likelihood, vae.likelihood, ae.signed_input, vae.signed_input) == ("mse", "bernoulli", True, True)
    net = build_model(ae)
    x = torch.rand(2, 1, 32, 32)
    logits = net.decode_logits(net.encode(x)[0])
    from latentwalk.model.networks import reconstruction_loss
    assert torch.allclose(reconstruction_loss(logits, x, "mse"), ((logits - (2 * x - 1)) ** 2).mean(dim=(1, 2, 3)))
    assert torch.allclose(net.decode(torch.zeros(1, 64)), (net.decode_logits(torch.zeros(1, 64)) + 1) / 2)
    assert torch.equal(net.model_scale(torch.ones(1)), torch.ones(1)) and float(net.model_scale(torch.zeros(1))) == -1.0


def test_the_stream_draws_fresh_angles_every_batch_and_is_seeded() -> None:
    first = line_batches(np.random.default_rng([3, 0]), 64)
    a, b = next(first), next(first)
    assert a.shape == (64, 32, 32, 1) and not np.array_equal(a, b)
    again = line_batches(np.random.default_rng([3, 0]), 64)
    np.testing.assert_array_equal(next(again), a)
    np.testing.assert_array_equal(next(again), b)
    # the batch is the authors' renderer at the drawn angles (uniform in [0, 2 pi))
    angles = np.random.default_rng([3, 0]).uniform(0.0, 2.0 * np.pi, 64)
    np.testing.assert_array_equal(a[..., 0], render_lines_acai(angles, 32, 2.0))
    assert not np.array_equal(next(line_batches(np.random.default_rng([4, 0]), 64)), a)


def test_the_evaluation_schedule() -> None:
    assert eval_interval(budget_samples("paper"), 65536, 64, 20) == 65536  # 256 evaluations, as the paper
    assert budget_samples("paper") == 1 << 24 and budget_samples(500) == 500
    assert eval_interval(32768, 65536, 64, 20) == 768  # a small budget: 42 evaluations, the median over the second half
    assert eval_interval(128, 65536, 64, 2) == 64 and eval_interval(100, 65536, 64, 20) == 64  # at least one batch
    assert eval_interval(10 * 65536 * 64, 1000, 64, 20) == 960  # whole batches


def test_a_run_is_the_median_of_its_last_20_evaluations() -> None:
    values = np.arange(30, dtype=float)
    evaluations = [{"samples_seen": 64 * (i + 1), "mean_distance": v} for i, v in enumerate(values)]
    np.random.default_rng(0).shuffle(evaluations)  # by samples seen, not by position
    assert run_value(evaluations, "mean_distance", 20) == float(np.median(values[-20:])) == 19.5
    assert run_value(evaluations[:5], "mean_distance", 20) == float(np.median(sorted(e["mean_distance"] for e in evaluations[:5])))
    evaluations[0]["mean_distance"] = None
    assert run_value(evaluations, "mean_distance", 30) is None


def test_lerp_latents_hits_both_ends_in_equal_steps() -> None:
    a, b = np.array([[0.0, 2.0]]), np.array([[3.0, -1.0]])
    np.testing.assert_allclose(lerp_latents(a, b, 4)[0], [[0, 2], [1, 1], [2, 0], [3, -1]], atol=1e-15)


@pytest.fixture(scope="module")
def refs() -> tuple[np.ndarray, np.ndarray]:
    return reference_lines(ACAI)


def test_true_lines_at_interpolated_angles_score_zero_and_a_jump_scores_one_minus_one_over_n(refs) -> None:
    angles, references = refs
    truth = np.stack([np.linspace(a, a + 1.2, 16) for a in (0.2, 2.0, 4.5)])  # three clean walks
    images = draw_lines(truth.ravel(), ACAI).reshape(3, 16, 32, 32)
    md, sm = score_walks(images, angles, references)
    assert md < 1e-5 and abs(sm) < 0.02
    start, end = draw_lines(np.array([0.4, 1.9]), ACAI)  # an abrupt switch halfway: the path jumps once
    jump = np.concatenate([np.repeat(start[None], 8, 0), np.repeat(end[None], 8, 0)])[None]
    md, sm = score_walks(jump, angles, references)
    assert md < 1e-5 and sm == pytest.approx(1 - 1 / 15, abs=1e-9)
    still = np.repeat(start[None, None], 16, axis=1)  # never moves: Smoothness undefined (NaN, not 0)
    assert math.isnan(score_walks(still, angles, references)[1])
    blank = np.full((1, 16, 32, 32), 0.5, dtype=np.float32)  # 2x - 1 = 0 everywhere: no distance
    assert math.isnan(score_walks(blank, angles, references)[0])


def _record(model: str, md: float, sm: float) -> dict:
    return {"model": model, "mean_distance": md, "smoothness": sm, "protocol": {**PAPER_PROTOCOL, "samples": 4096}}


def test_summarize_runs_gives_mean_and_population_std_beside_the_paper() -> None:
    results = [_record("ae", v, s) for v, s in ((0.006, 0.4), (0.008, 0.5), (0.010, 0.3))] + [_record("acai", 0.001, 0.1)]
    rows = summarize_runs(results, ["ae", "acai"])
    assert rows[0]["mean_distance_e3"] == pytest.approx(8.0)
    assert rows[0]["mean_distance_e3_std"] == pytest.approx(np.std([6.0, 8.0, 10.0], ddof=0)) == pytest.approx(math.sqrt(8 / 3))
    assert rows[0]["smoothness_std"] == pytest.approx(np.std([0.4, 0.5, 0.3]))
    assert rows[1]["seeds"] == 1 and rows[1]["mean_distance_e3_std"] == 0.0 and rows[0]["label"] == "Baseline"
    assert (rows[0]["paper_mean_distance_e3"], rows[1]["paper_smoothness"]) == (PAPER_TABLE["ae"][0], PAPER_TABLE["acai"][2])
    assert rows[0]["samples"] == 4096 and rows[0]["reduced_budget"] and rows[0]["median_of"] == 20
    with pytest.raises(ValueError, match="no benchmark result for model 'vae'"):
        summarize_runs(results, ["vae"])


def test_dropout_and_denoising_differ_from_ae_only_in_training(tmp_path: Path) -> None:
    """Same seed, same stream: the three start from the same weights; only the corrupted training views make them
    differ, and each corrupts what it should (the dropout AE's latent, the denoising AE's input)."""
    from latentwalk.model.networks import ModelSpec, corrupt
    protocol = {**PAPER_PROTOCOL, "samples": 64, "eval_pairs": 2, "frames": 4, "median_of": 1, "latent_dim": 64}
    weights = {}
    for kind in ("ae", "dropout_ae", "denoising_ae"):
        torch.manual_seed(5)
        weights[kind] = build_model(benchmark_spec(kind, PARAMS, 64)).state_dict()
        acai_protocol(kind, 1, protocol, PARAMS, {"threads": 1, "device": "cpu"}, tmp_path / f"{kind}.json")
    assert all(torch.equal(weights["ae"][k], weights[kind][k]) for kind in weights for k in weights["ae"])
    runs = {kind: json.loads((tmp_path / f"{kind}.json").read_text()) for kind in weights}
    losses = {kind: [e["loss"] for e in r["evaluations"]] for kind, r in runs.items()}
    assert losses["ae"] != losses["dropout_ae"] and losses["ae"] != losses["denoising_ae"]
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 1, 8, 8)
    spec = ModelSpec(kind="dropout_ae", latent_dim=1000, image_shape=(1, 8, 8), dropout=0.25)
    seen, mask = corrupt(spec, x, g)
    assert seen is x and mask.unique().tolist() == pytest.approx([0.0, 1 / 0.75]) and abs(float((mask == 0).float().mean()) - 0.25) < 0.03
    spec = ModelSpec(kind="denoising_ae", latent_dim=4, image_shape=(1, 8, 8), denoising_sigma=0.5)
    seen, mask = corrupt(spec, torch.zeros(200, 1, 8, 8), g)
    assert mask is None and float(seen.std()) == pytest.approx(0.5, rel=0.05)
    assert corrupt(ModelSpec(kind="ae", latent_dim=4, image_shape=(1, 8, 8)), x, g) == (x, None)


def test_protocol_runs_evaluate_on_schedule_and_the_table_reports_them(tmp_path: Path) -> None:
    protocol = {**PAPER_PROTOCOL, "samples": 192, "eval_pairs": 3, "frames": 5, "median_of": 2, "latent_dim": 64}
    outs = []
    for model in ("ae", "acai"):
        for seed in (1, 2):
            out = tmp_path / f"{model}-s{seed}.json"
            acai_protocol(model, seed, protocol, PARAMS, {"threads": 1, "device": "cpu"}, out)
            outs.append(out)
    record = json.loads(outs[0].read_text())
    assert [e["samples_seen"] for e in record["evaluations"]] == [64, 128, 192]
    assert record["protocol"]["eval_every"] == 64 and record["protocol"]["samples"] == 192
    assert record["mean_distance"] == pytest.approx(np.median([e["mean_distance"] for e in record["evaluations"][-2:]]))
    again = tmp_path / "again.json"
    acai_protocol("acai", 2, protocol, PARAMS, {"threads": 1, "device": "cpu"}, again)  # seeded: bitwise the same
    assert json.loads(again.read_text())["evaluations"] == json.loads(outs[3].read_text())["evaluations"]
    names = {"evaluations": "e.csv", "table": "t.csv", "png": "t.png", "svg": "t.svg", "curve_png": "c.png", "curve_svg": "c.svg"}
    acai_table(outs, ["ae", "acai"], {k: tmp_path / v for k, v in names.items()})
    evaluations = pd.read_csv(tmp_path / "e.csv")
    assert list(evaluations.columns) == ["model", "seed", "samples_seen", "mean_distance", "smoothness", "pairs", "frames"]
    assert len(evaluations) == 2 * 2 * 3 and set(evaluations["pairs"]) == {3}
    table = pd.read_csv(tmp_path / "t.csv")
    assert list(table["model"]) == ["ae", "acai"] and set(table["seeds"]) == {2}
    for column in ("mean_distance_e3", "mean_distance_e3_std", "smoothness_std", "architecture", "learning_rate", "batch_size",
                   "samples", "eval_every", "eval_pairs", "frames", "median_of", "paper_mean_distance_e3", "paper_smoothness"):
        assert column in table.columns, column
    assert table["architecture"].iloc[0] == "acai_conv" and table["learning_rate"].iloc[0] == 1e-4
    assert (tmp_path / "t.png").stat().st_size > 10_000 and (tmp_path / "c.png").stat().st_size > 10_000
    assert LINES["size"] == 32
