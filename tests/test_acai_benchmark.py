"""Tests for the published line benchmark's protocol and table (latentwalk.measure.line_benchmark, stages.acai_benchmark)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from latentwalk.data.dataset import save_dataset
from latentwalk.data.lines import draw_lines
from latentwalk.data.prepare import make_lines
from latentwalk.measure.line_benchmark import PAPER_TABLE, lerp_latents, protocol_pairs, score_walks, summarize_runs
from latentwalk.measure.quality import reference_lines

ACAI = {"size": 32, "length": 15.0, "width": 2.0, "supersample": 8, "renderer": "acai"}


def test_protocol_pairs_are_distinct_seeded_test_rows() -> None:
    pairs = protocol_pairs(100, 16, seed=4)
    assert pairs.shape == (16, 2) and len(set(pairs.ravel().tolist())) == 32 and pairs.max() < 100
    np.testing.assert_array_equal(pairs, protocol_pairs(100, 16, seed=4))
    assert not np.array_equal(pairs, protocol_pairs(100, 16, seed=5))
    with pytest.raises(ValueError, match="needs 32 test lines"):
        protocol_pairs(31, 16, seed=0)


def test_lerp_latents_hits_both_ends_in_equal_steps() -> None:
    a, b = np.array([[0.0, 2.0]]), np.array([[3.0, -1.0]])
    walk = lerp_latents(a, b, 4)
    np.testing.assert_allclose(walk[0], [[0, 2], [1, 1], [2, 0], [3, -1]], atol=1e-15)


@pytest.fixture(scope="module")
def refs() -> tuple[np.ndarray, np.ndarray]:
    return reference_lines(ACAI)


def test_true_lines_at_interpolated_angles_score_zero_and_a_jump_scores_one_minus_one_over_n(refs) -> None:
    angles, references = refs
    truth = np.stack([np.linspace(a, a + 1.2, 16) for a in (0.2, 2.0, 4.5)])  # three clean walks
    images = draw_lines(truth.ravel(), ACAI).reshape(3, 16, 32, 32)
    md, sm = score_walks(images, angles, references)
    assert md < 1e-5 and abs(sm) < 0.02
    # an abrupt switch halfway: each frame is a clean line, the path jumps once
    start, end = draw_lines(np.array([0.4, 1.9]), ACAI)
    jump = np.concatenate([np.repeat(start[None], 8, 0), np.repeat(end[None], 8, 0)])[None]
    md, sm = score_walks(jump, angles, references)
    assert md < 1e-5 and sm == pytest.approx(1 - 1 / 15, abs=1e-9)
    # walks that never move: Smoothness undefined for all, so NaN (not 0); an all-background frame: no distance
    still = np.repeat(start[None, None], 16, axis=1)
    assert math.isnan(score_walks(still, angles, references)[1])
    blank = np.full((1, 16, 32, 32), 0.5, dtype=np.float32)  # 2x - 1 = 0 everywhere
    assert math.isnan(score_walks(blank, angles, references)[0])


def test_summarize_runs_gives_mean_and_sample_std_beside_the_paper() -> None:
    results = [{"model": "ae", "mean_distance": v, "smoothness": s} for v, s in ((0.006, 0.4), (0.008, 0.5))]
    results.append({"model": "acai", "mean_distance": 0.001, "smoothness": 0.1})
    rows = summarize_runs(results, ["ae", "acai"])
    assert rows[0]["mean_distance_e3"] == pytest.approx(7.0) and rows[0]["mean_distance_e3_std"] == pytest.approx(math.sqrt(2))
    assert rows[0]["smoothness_std"] == pytest.approx(np.std([0.4, 0.5], ddof=1))
    assert rows[1]["seeds"] == 1 and rows[1]["mean_distance_e3_std"] == 0.0
    assert (rows[0]["paper_mean_distance_e3"], rows[1]["paper_smoothness"]) == (PAPER_TABLE["ae"][0], PAPER_TABLE["acai"][2])
    with pytest.raises(ValueError, match="no benchmark result for model 'vae'"):
        summarize_runs(results, ["vae"])


def test_protocol_stage_evaluates_the_last_epochs_and_the_table_stage_reports_them(tmp_path: Path) -> None:
    from latentwalk.measure.line_benchmark import acai_protocol, acai_table

    save_dataset(make_lines(400, 0.25, seed=2), tmp_path / "lines.npz")
    common = {"data_npz": tmp_path / "lines.npz",
              "model_params": {"architecture": "mlp", "hidden": [32], "likelihood": "bernoulli"},
              "train_params": {"epochs": 3, "batch_size": 32, "learning_rate": 2e-3, "threads": 1, "device": "cpu"},
              "protocol": {"pairs": 4, "frames": 6, "evaluations": 2, "latent_dim": 4, "lines": ACAI}}
    outs = []
    for model in ("ae", "acai"):
        out = tmp_path / f"{model}-s1.json"
        acai_protocol(model=model, seed=1, out_json=out, **common)
        record = json.loads(out.read_text())
        assert [e["epoch"] for e in record["evaluations"]] == [2, 3]
        assert record["mean_distance"] == pytest.approx(np.median([e["mean_distance"] for e in record["evaluations"]]))
        assert record["samples_seen"] == 3 * 300 and len(record["pairs"]) == 4
        outs.append(out)
    again = tmp_path / "again.json"
    acai_protocol(model="acai", seed=1, out_json=again, **common)
    assert json.loads(again.read_text())["evaluations"] == json.loads(outs[1].read_text())["evaluations"]  # seeded
    acai_table(outs, ["ae", "acai"], tmp_path / "t.csv", tmp_path / "t.png", tmp_path / "t.svg")
    table = (tmp_path / "t.csv").read_text().splitlines()
    assert table[0].startswith("model,seeds,mean_distance_e3") and [r.split(",")[0] for r in table[1:]] == ["ae", "acai"]
    assert (tmp_path / "t.png").stat().st_size > 10_000
