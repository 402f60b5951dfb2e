"""Your own images and models through the pipeline: a folder of RGB PNGs in class folders and an unlabelled grey
.npz, each a dataset like a built-in one (trained, walked, decoded, scored), with every source file an input of its
preparation; and two models trained elsewhere (TorchScript and torch.export) analysed on the PNGs, never trained."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
import torch
from _external import user_models
from _helpers import selftest_results
from _workflow import _copy_repo, scheduled, snakemake
from PIL import Image

from latentwalk.report.explorer import UI_CHECKS, find_browser, page_dom

pytestmark = pytest.mark.workflow

COLOURS = {"blue": (40, 80, 230), "green": (40, 200, 60), "red": (230, 40, 40)}


def _write_sources(root: Path) -> dict[str, dict[str, object]]:
    rng = np.random.default_rng(0)
    for k in range(48):
        name = list(COLOURS)[k % 3]
        image = np.zeros((12, 12, 3), np.uint8)
        x, y = rng.integers(0, 6, 2)
        image[y : y + 6, x : x + 6] = COLOURS[name]
        (root / "shapes" / name).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / "shapes" / name / f"{k:03d}.png")
    np.savez(root / "plain.npz", images=rng.random((40, 8, 8)).astype(np.float32))
    return {"shapes": {"path": str(root / "shapes"), "size": 8, "channels": 3},
            "plain": {"path": str(root / "plain.npz"), "size": 8, "channels": 1}}


@pytest.fixture(scope="module")
def own_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("own")
    work = _copy_repo(root / "repo")
    (work / "config.yaml").unlink()
    config = {
        "datasets": ["shapes", "plain"], "models": ["vae"], "latent_dims": [2],
        "data": {"sources": _write_sources(root)},
        "train": {"epochs": {"shapes": 2, "plain": 2}, "batch_size": 16},
        "model": {"hidden": [16]},
        "paths": {"methods": ["lerp", "attribute", "grid"], "pairs": {"n": 2}, "grid": {"n": 3},
                  "attribute": {"class_pairs": [[0, 1]], "starts": 1}},
        "stats": {"classifier": {"hidden": 8, "max_iter": 5}},
        "external_models": {"mixed": _mixed(user_models(root / "models", 3, 8))},
        "explorer": {"max_points": 20, "selftest_frames": 3},
    }
    (work / "own.yaml").write_text(yaml.safe_dump(config))
    targets = [f"results/stats/{run}/path_quality.csv" for run in ("shapes/vae-z2", "plain/vae-z2")]
    snakemake(work, *targets, "results/figures/shapes/vae-z2/walks", *EXTERNAL_TARGETS, "--configfile", "own.yaml")
    return work


def _mixed(models: dict[str, dict[str, object]]) -> dict[str, object]:
    """One external model of both formats: a traced TorchScript encoder returning (mu, logvar) and an exported decoder
    of operations the explorer page does not run."""
    return {"dataset": "shapes", "encoder": models["traced"]["encoder"], "decoder": models["exported"]["decoder"],
            "latent_dim": 3}


#: What the external run is checked on: its statistics, figures and explorer page.
EXTERNAL_TARGETS = [f"results/{kind}/shapes/mixed-z3{suffix}" for kind, suffix in
                    (("stats", "/path_quality.csv"), ("figures", "/walks"), ("explorer", ".html"),
                     ("figures", "/training_curves.png"))]


def test_sources_are_prepared_as_uint8_with_labels_from_folders_and_every_file_recorded(own_run: Path) -> None:
    with np.load(own_run / "results/data/shapes.npz") as data:
        assert data["images"].shape == (48, 8, 8, 3) and data["images"].dtype == np.uint8
        assert sorted(set(data["labels"].tolist())) == [0, 1, 2] and str(data["label_kind"]) == "class"
    with np.load(own_run / "results/data/plain.npz") as data:
        assert data["images"].shape == (40, 8, 8, 1) and str(data["label_kind"]) == "none"
    record = json.loads((own_run / "results/data/shapes.json").read_text())
    assert record["source"]["classes"] == ["blue", "green", "red"] and len(record["source"]["files"]) == 48
    job = json.loads((own_run / "results/provenance/prepare_data/shapes.json").read_text())
    assert sum(name.endswith(".png") for name in job["inputs"]) == 48  # every image an input of the job


def test_sources_train_walk_decode_in_colour_and_are_scored(own_run: Path) -> None:
    meta = json.loads((own_run / "results/models/shapes/vae-z2/meta.json").read_text())
    assert meta["config"]["model"]["image_shape"] == [3, 8, 8]
    with np.load(own_run / "results/decoded/shapes/vae-z2/lerp.npz") as decoded:
        assert decoded["images"].shape[2:] == (8, 8, 3)
    labelled = pd.read_csv(own_run / "results/stats/shapes/vae-z2/path_quality.csv")
    assert {"confidence", "nn_distance"} <= set(labelled.columns) and "attribute" in set(labelled["method"])
    plain = pd.read_csv(own_run / "results/stats/plain/vae-z2/path_quality.csv")
    assert plain["nn_distance"].notna().all() and "attribute" not in set(plain["method"])  # no classes: no attributes
    assert (own_run / "results/figures/shapes/vae-z2/walks/interpolation_strips.png").stat().st_size > 2000


def test_an_external_model_is_analysed_from_its_own_encoder_without_training(own_run: Path) -> None:
    run = own_run / "results/models/shapes/mixed-z3"
    assert not (run / "model.pt").exists() and not (own_run / "results/logs/train/shapes/mixed-z3.log").exists()
    config = yaml.safe_load((own_run / "own.yaml").read_text())["external_models"]["mixed"]
    meta = json.loads((run / "meta.json").read_text())
    assert meta["stage"] == "import_model" and len(meta["external"]["decoder_sha256"]) == 64
    assert (meta["external"]["encoder_format"], meta["external"]["decoder_format"]) == ("torchscript", "export")
    with np.load(own_run / "results/data/shapes.npz") as data:
        images = torch.as_tensor(data["images"]).permute(0, 3, 1, 2).float() / 255  # (N, C, H, W) in [0, 1]
    with torch.no_grad():
        expected = torch.jit.load(config["encoder"])(images)[0].numpy()  # the means of (mu, logvar)
    table = pd.read_parquet(own_run / "results/latents/shapes/mixed-z3.parquet")
    np.testing.assert_allclose(table[["mu_0", "mu_1", "mu_2"]].to_numpy(), expected, rtol=1e-5, atol=1e-5)
    with np.load(own_run / "results/decoded/shapes/mixed-z3/lerp.npz") as decoded:
        frames = decoded["images"]
    assert frames.shape[2:] == (8, 8, 3) and np.ptp(frames[..., 0] - frames[..., 2]) > 0.05  # colour, not grey
    strip = np.asarray(Image.open(own_run / "results/figures/shapes/mixed-z3/walks/interpolation_strips.png"))
    assert strip.shape[2] >= 3 and np.abs(strip[..., 0].astype(int) - strip[..., 2]).max() > 40
    quality = pd.read_csv(own_run / "results/stats/shapes/mixed-z3/path_quality.csv")
    assert quality["confidence"].notna().all() and quality["nn_distance"].notna().all()  # scored like the source
    job = json.loads((own_run / "results/provenance/encode/shapes/mixed-z3.json").read_text())
    assert config["decoder"] in job["inputs"] and config["encoder"] in job["inputs"]  # the user's files are inputs


def test_the_external_explorer_page_passes_its_self_test_with_pre_decoded_images(own_run: Path) -> None:
    page = own_run / "results/explorer/shapes/mixed-z3.html"
    diff, frames, ui = selftest_results(page)
    assert diff <= 1e-4 and frames == 5 and all(ui[k] in ("1", "none") for k in UI_CHECKS), (diff, ui)
    data = json.loads(page.read_text().split('<script id="data" type="application/json">')[1].split("</script>")[0])
    assert data["decoder"] is None and "repeat" in data["fallback"] and data["predecoded"]["k"] > 20
    with tempfile.TemporaryDirectory() as profile:  # the page says so where the reader looks
        dom = page_dom(page, "", find_browser(), profile)
    assert "This page cannot run the model's decoder (it uses the operation repeat" in dom
    assert data["label_names"] == ["blue", "green", "red"]  # the class folders name the legend


def test_a_changed_model_file_is_named_by_verify_and_reruns_its_run_only(own_run: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from latentwalk.report.audit import verify, write_manifest

    monkeypatch.chdir(own_run)
    write_manifest("results", "manifest.tsv")
    decoder = Path(yaml.safe_load((own_run / "own.yaml").read_text())["external_models"]["mixed"]["decoder"])
    original = decoder.read_bytes()
    try:
        decoder.write_bytes(original + b"\0")  # another file at the same path
        problems = [str(p) for p in verify("results", "manifest.tsv")]
        assert any(p.startswith(f"modified: {decoder}") for p in problems), problems
        planned = scheduled(snakemake(own_run, "-n", *EXTERNAL_TARGETS, "--configfile", "own.yaml"))
        assert planned.get("import_model") == 1 and "train" not in planned and planned.get("encode") == 1, planned
    finally:
        decoder.write_bytes(original)


def test_editing_one_source_image_reruns_that_dataset_only_and_verify_names_it(own_run: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from latentwalk.report.audit import verify, write_manifest

    monkeypatch.chdir(own_run)  # job records name files relative to the working directory
    write_manifest("results", "manifest.tsv")
    image = next((own_run.parent / "shapes" / "red").glob("*.png"))
    pixels = np.asarray(Image.open(image)).copy()
    pixels[0, 0] = (255, 255, 255)
    Image.fromarray(pixels).save(image)
    problems = [str(p) for p in verify("results", "manifest.tsv")]
    assert any("stale" in p and "shapes.npz" in p and image.name in p for p in problems), problems
    targets = [f"results/stats/{run}/path_quality.csv" for run in ("shapes/vae-z2", "plain/vae-z2")]
    planned = scheduled(snakemake(own_run, "-n", *targets, "--configfile", "own.yaml"))
    assert planned.get("prepare_data") == 1 and planned.get("train") == 1, planned  # shapes only, not plain
    assert planned.get("path_stats") == 1, planned
