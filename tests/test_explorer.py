"""Tests for the latent explorer: the exported decoder against torch, projections, the page, and the page in Chromium."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from _helpers import one_line, selftest_results
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from latentwalk.core.io import LatentwalkError, read_parquet
from latentwalk.data.dataset import Dataset, save_dataset
from latentwalk.data.prepare import load_digits
from latentwalk.model import encode as encode_stage
from latentwalk.model import training as train_stage
from latentwalk.model.networks import ModelSpec, build_model
from latentwalk.report.explorer import build_explorer, decode_f32, encode_f32, render_page
from latentwalk.report.project import decode_layers, decoder_layers, project
from latentwalk.walks.generate import generate_paths
from latentwalk.walks.projection import embed, pca, place_by_neighbours

ROOT = Path(__file__).resolve().parents[1]
SEED = 11
TRAIN_PARAMS = {"epochs": 2, "batch_size": 32, "learning_rate": 1e-3, "threads": 1, "kl_warmup_epochs": 0}
#: (run, architecture, projection): a 2-D MLP VAE, a 3-D conv AE on t-SNE, a 5-D MLP VAE on UMAP, and a 4-D ACAI
#: with the paper's all-convolutional layout (its decoder: 3x3 convolutions, leaky ReLU, nearest upsampling).
RUNS = [("vae", 2, "mlp", "pca"), ("ae", 3, "conv", "tsne"), ("vae", 5, "mlp", "umap"), ("acai", 4, "acai_conv", "pca")]


def _random_model(architecture: str, dim: int, shape: tuple[int, int] = (8, 8)) -> Any:
    torch.manual_seed(dim)
    spec = ModelSpec(kind="vae", latent_dim=dim, image_shape=shape, architecture=architecture, hidden=(24, 12),
                     channels=(4, 6), conv_hidden=20, depth=3)
    model = build_model(spec).eval()
    with torch.no_grad():  # larger biases than the default init, so that every pixel's sigmoid is exercised
        for p in model.decoder.parameters():
            p.add_(torch.randn_like(p) * 0.3)
    return model


@pytest.mark.parametrize(("architecture", "shape"), [("mlp", (8, 8)), ("mlp", (28, 28)), ("conv", (8, 8)), ("conv", (32, 32)),
                                                     ("acai_conv", (8, 8)), ("acai_conv", (32, 32))])
def test_exported_decoder_matches_torch(architecture: str, shape: tuple[int, int]) -> None:
    """The layer list and its numpy forward pass (the JavaScript's specification) give torch's images."""
    model = _random_model(architecture, 4, shape)
    layers = decoder_layers(model)
    ops = [layer["op"] for layer in layers]
    assert ops[-1] == "sigmoid" and ops.count("sigmoid") == 1  # the logits become pixels in the last layer
    if architecture == "mlp":
        assert set(ops) == {"linear", "relu", "reshape", "sigmoid"}
    elif architecture == "conv":
        assert ops.count("convT") == 2 and "reshape" in ops
    else:  # scales = log2(side / 2): two convolutions and an upsampling each, then two more convolutions
        scales = {8: 2, 32: 4}[shape[0]]
        assert ops.count("upsample2") == scales and ops.count("conv") == 2 * scales + 2 and ops.count("leaky") == 2 * scales + 1
    z = np.random.default_rng(0).standard_normal((6, 4)) * 2.0
    with torch.no_grad():
        expected = model.decode(torch.as_tensor(z, dtype=torch.float32)).numpy().reshape(6, -1)
    got = np.stack([decode_layers(layers, row) for row in z.astype(np.float32)])
    assert got.shape == (6, shape[0] * shape[1])
    # torch runs in float32, the reference in float64: ten layers of 3x3 convolutions with these inflated random
    # weights accumulate up to ~2e-5 of float32 rounding (the page's own self-test allows 1e-4)
    tolerance = 5e-5 if architecture == "acai_conv" else 2e-6
    np.testing.assert_allclose(got, expected, atol=tolerance, rtol=0)
    assert np.ptp(got) > 0.3  # not a saturated or constant image


def test_unknown_decoder_layer_is_refused() -> None:
    model = _random_model("mlp", 2)
    model.decoder.append(torch.nn.Tanh())
    with pytest.raises(ValueError, match="cannot export decoder layer Tanh"):
        decoder_layers(model)


@settings(max_examples=50, deadline=None)
@given(arrays(np.float32, st.integers(0, 40), elements=st.floats(-1e6, 1e6, width=32)))
def test_f32_roundtrip(values: np.ndarray) -> None:
    text = encode_f32(values)
    assert re.fullmatch(r"[A-Za-z0-9+/=]*", text)
    np.testing.assert_array_equal(decode_f32(text), values)


def test_pca_embedding_is_the_top_two_components() -> None:
    x = np.random.default_rng(1).standard_normal((50, 4)) * np.array([5.0, 2.0, 0.5, 0.1])
    xy = embed(x, "pca", 0)
    np.testing.assert_allclose(xy, pca(x, 2).transform(x), atol=1e-12)
    assert xy[:, 0].std() > xy[:, 1].std() > 0
    np.testing.assert_array_equal(embed(x[:, :2], "tsne", 0), x[:, :2])
    np.testing.assert_array_equal(embed(x[:, :2], "umap", 0), x[:, :2])  # 2-D latents are drawn as they are
    np.testing.assert_array_equal(embed(x[:, :1], "pca", 0), np.column_stack([x[:, 0], np.zeros(50)]))
    with pytest.raises(ValueError, match="unknown projection 'mds'"):
        embed(x, "mds", 0)


@pytest.mark.parametrize("method", ["tsne", "umap"])
def test_nonlinear_embeddings_are_seeded(method: str) -> None:
    """Same input and seed, same coordinates (reruns are byte-identical); clusters stay apart."""
    rng = np.random.default_rng(2)
    x = np.vstack([rng.standard_normal((30, 6)), rng.standard_normal((30, 6)) + 12.0])
    first, second = embed(x, method, 5), embed(x, method, 5)
    np.testing.assert_array_equal(first, second)
    assert first.shape == (60, 2) and np.isfinite(first).all()
    a, b = first[:30].mean(axis=0), first[30:].mean(axis=0)
    spread = max(first[:30].std(axis=0).max(), first[30:].std(axis=0).max())
    assert np.linalg.norm(a - b) > 2 * spread


def test_place_by_neighbours_is_exact_at_the_points_and_inside_their_hull() -> None:
    rng = np.random.default_rng(3)
    points, coords = rng.standard_normal((40, 5)), rng.standard_normal((40, 2))
    np.testing.assert_allclose(place_by_neighbours(points, coords, points[:7]), coords[:7], atol=1e-9)
    mid = place_by_neighbours(points, coords, (points[:10] + points[10:20]) / 2)
    assert (mid >= coords.min(axis=0) - 1e-12).all() and (mid <= coords.max(axis=0) + 1e-12).all()


def _model_files(out: Path, latents: Path | None = None) -> dict[str, Path]:
    """The run files rule project reads, as its inputs name them."""
    return {"latents": latents or out / "latents.parquet", "model": out / "model.pt", "meta": out / "meta.json"}


def _projection(method: str, selftest_frames: int = 5) -> dict[str, Any]:
    """Rule project's settings (its params)."""
    return {"method": method, "max_points": 40, "seed": SEED, "selftest_frames": selftest_frames}


@pytest.fixture(scope="module")
def explorers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """150 digits; for each of RUNS a trained, encoded run with lerp and traversal paths, projected, and its page."""
    root = tmp_path_factory.mktemp("explorer")
    full = load_digits(0.2, 0)
    rows = np.concatenate([np.flatnonzero(full.labels == c)[:15] for c in range(10)])
    split = np.tile(np.array(["train"] * 10 + ["test"] * 5), 10)
    save_dataset(Dataset(images=full.images[rows], labels=full.labels[rows], split=split, label_kind="class"), root / "digits.npz")
    pages = {}
    for kind, dim, architecture, method in RUNS:
        run = f"digits/{kind}-z{dim}"
        out = root / f"{kind}-z{dim}"
        # the deep all-convolutional decoder needs more steps before its image follows the latent
        train_params = {**TRAIN_PARAMS, "epochs": 10, "learning_rate": 3e-3} if architecture == "acai_conv" else TRAIN_PARAMS
        params = {"architecture": architecture, "likelihood": "bernoulli", "hidden": [16], "channels": [4, 8], "conv_hidden": 32,
                  "depth": 4}
        train_stage.train(data_npz=root / "digits.npz", run=run, model_params=params, train_params=train_params, seed=3,
                          device="cpu", out={"model": out / "model.pt", "history": out / "train_log.csv",
                                             "meta": out / "meta.json"})
        encode_stage.encode(data_npz=root / "digits.npz", model_files={"model": out / "model.pt", "meta": out / "meta.json"}, dim=dim,
                            batch_size=64, device="cpu", out_parquet=out / "latents.parquet")
        params_ = {"seed": SEED, "pairs": {"n": 3, "mode": "cross_class"}, "lerp": {"steps": 7},
                   "traverse_axis": {"steps": 5, "range": 2.0, "start": "origin", "dims": None, "max_dims": 16}}
        generate_paths(run=run, methods=["lerp", "traverse_axis"], latents=out / "latents.parquet", params=params_,
                       out_dir=out / "paths")
        for name in ("a", "b"):
            project(run=run, inputs=_model_files(out), settings=_projection(method),
                    out={"projection": out / f"projection_{name}.parquet", "decoder": out / f"decoder_{name}.json"})
        build_explorer(run=run, inputs={"decoder": out / "decoder_a.json", "projection": out / "projection_a.parquet",
                                        "paths": out / "paths"},
                       methods=["lerp", "traverse_axis"], max_sliders=3, out_html=out / "explorer.html")
        pages[f"{kind}-z{dim}"] = out
    return pages


def _page_data(html: str) -> dict[str, Any]:
    match = re.search(r'<script id="data" type="application/json">(.*?)</script>', html, flags=re.S)
    assert match is not None
    return json.loads(match.group(1))


@pytest.mark.parametrize("name", [f"{k}-z{d}" for k, d, _, _ in RUNS])
def test_projection_table(explorers: dict[str, Path], name: str) -> None:
    out = explorers[name]
    kind, dim, _, method = next(r for r in RUNS if f"{r[0]}-z{r[1]}" == name)
    first, second = out / "projection_a.parquet", out / "projection_b.parquet"
    assert first.read_bytes() == second.read_bytes()  # seeded: reruns are byte-identical
    assert (out / "decoder_a.json").read_bytes() == (out / "decoder_b.json").read_bytes()
    table, meta = read_parquet(first)
    assert len(table) == 40 and table["index"].is_unique
    mu = table[[f"mu_{i}" for i in range(dim)]].to_numpy()
    latents, _ = read_parquet(out / "latents.parquet")
    test = latents[latents["split"] == "test"].set_index("index")
    np.testing.assert_allclose(mu, test.loc[table["index"], [f"mu_{i}" for i in range(dim)]].to_numpy(), rtol=1e-6)
    np.testing.assert_array_equal(table["label"].to_numpy(), test.loc[table["index"], "label"].to_numpy())
    basis = meta["pca"]
    assert len(basis["components"]) == min(3, dim)
    xy = table[["x", "y"]].to_numpy()
    if dim == 2:
        np.testing.assert_array_equal(xy, mu)
        assert meta["config"]["method"] == "latent" and "pc_0" not in table.columns
    else:
        assert meta["config"]["method"] == method
        pcs = (mu - np.asarray(basis["mean"])) @ np.asarray(basis["components"]).T
        np.testing.assert_allclose(table[["pc_0", "pc_1", "pc_2"]].to_numpy(), pcs, atol=1e-9)
        if method == "pca":
            np.testing.assert_allclose(xy, pcs[:, :2], atol=1e-9)


@pytest.mark.parametrize("name", [f"{k}-z{d}" for k, d, _, _ in RUNS])
def test_page_is_self_contained_and_carries_what_the_page_decodes(explorers: dict[str, Path], name: str) -> None:
    html = (explorers[name] / "explorer.html").read_text()
    text_only = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    assert not re.search(r"https?://", html), "the page refers to the network"
    assert not re.search(r"<(script|img|link|iframe)[^>]*\s(src|href)=", html)
    assert "@import" not in html and "url(" not in html
    assert "{{" not in text_only
    data = _page_data(html)
    dim = data["dim"]
    assert data["run"] == f"digits/{name}" and data["image"] == [1, 8, 8]
    assert sorted(data["activity"]) == list(range(dim))
    # the self-test's references are torch's images of the probes; the exported decoder reproduces them
    probes = decode_f32(data["selftest"]["z"]).reshape(-1, dim)
    references = decode_f32(data["selftest"]["images"]).reshape(len(probes), -1)
    assert data["selftest"]["k"] == len(probes) == 5 + 2
    mine = np.stack([decode_layers(data["decoder"], z) for z in probes])
    np.testing.assert_allclose(mine, references, atol=2e-6, rtol=0)
    # overlays: the run's lerp and traversal paths (at most 6 of each), placed in the plane
    counts = {m: sum(p["method"] == m for p in data["paths"]) for m in ("lerp", "traverse_axis")}
    assert counts == {"lerp": 3, "traverse_axis": min(dim, 6)} and len(data["paths"]) == sum(counts.values())
    table, meta = read_parquet(explorers[name] / "projection_a.parquet")
    for overlay in data["paths"]:
        z = decode_f32(overlay["z"]).reshape(overlay["steps"], dim)
        xy = decode_f32(overlay["xy"]).reshape(overlay["steps"], 2)
        if dim == 2:
            np.testing.assert_allclose(xy, z, rtol=1e-6)
        elif meta["config"]["method"] == "pca":
            basis = meta["pca"]
            np.testing.assert_allclose(xy, (z - basis["mean"]) @ np.asarray(basis["components"])[:2].T, atol=1e-5)
    assert all(p["label"].startswith(p["method"]) for p in data["paths"])
    assert len(html) < 3_000_000


def test_page_template_escapes_the_data() -> None:
    page = render_page({"note": "</script><script>alert(1)</script>"}, "a <b> & c")
    assert "<title>a &lt;b> &amp; c</title>" in page
    # without JavaScript the page still names itself and says what it needs
    assert '<h1 id="title">a &lt;b> &amp; c</h1>' in page
    assert re.search(r"<noscript><p[^>]*>This page needs JavaScript", page)
    assert page.count("</script>") == 2  # the data's own closing tag is escaped
    assert json.loads(re.search(r'type="application/json">(.*?)</script>', page, flags=re.S).group(1))["note"].startswith("</script>")


def test_explorer_refuses_a_projection_of_another_run(explorers: dict[str, Path], tmp_path: Path) -> None:
    out = explorers["vae-z2"]
    with pytest.raises(LatentwalkError) as excinfo:
        build_explorer(run="digits/vae-z2", inputs={"decoder": out / "decoder_a.json", "paths": out / "paths",
                                                    "projection": explorers["ae-z3"] / "projection_a.parquet"},
                       methods=["lerp"], max_sliders=3, out_html=tmp_path / "x.html")
    one_line(excinfo, "projection_a.parquet", "3-D latents", "latent dim is 2", "decoder_a.json")
    assert not (tmp_path / "x.html").exists()
    with pytest.raises(LatentwalkError) as excinfo:  # the model of one run probed with another run's latents
        project(run="digits/vae-z2", inputs=_model_files(out, explorers["ae-z3"] / "latents.parquet"),
                settings=_projection("pca", 3), out={"projection": tmp_path / "p.parquet", "decoder": tmp_path / "d.json"})
    one_line(excinfo, "latents.parquet", "latent dim 2", "3-D")
    assert not (tmp_path / "d.json").exists() and not (tmp_path / "p.parquet").exists()


def test_the_page_job_needs_no_torch(explorers: dict[str, Path], tmp_path: Path) -> None:
    """The page is assembled in a fresh interpreter without importing torch (a path setting rebuilds it cheaply),
    and it is the page the fixture built."""
    import subprocess
    import sys

    out = explorers["ae-z3"]
    code = ("import sys; from latentwalk.report.explorer import build_explorer; "
            f"build_explorer(run='digits/ae-z3', inputs={{'decoder': {str(out / 'decoder_a.json')!r}, "
            f"'projection': {str(out / 'projection_a.parquet')!r}, 'paths': {str(out / 'paths')!r}}}, "
            f"methods=['lerp', 'traverse_axis'], max_sliders=3, out_html={str(tmp_path / 'page.html')!r}); "
            "print('torch' in sys.modules)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "False"
    assert (tmp_path / "page.html").read_bytes() == (out / "explorer.html").read_bytes()
    # the page's statistics to the last bit as pandas' matrix of the same columns gives them
    table, _ = read_parquet(out / "projection_a.parquet")
    mu = table[[f"mu_{i}" for i in range(3)]].to_numpy(dtype=np.float64)
    data = _page_data((tmp_path / "page.html").read_text())
    assert data["std"] == mu.std(axis=0).tolist() and data["mean"] == mu.mean(axis=0).tolist()
    assert _page_data((tmp_path / "page.html").read_text())["decoder"] == json.loads((out / "decoder_a.json").read_text())["decoder"]


@pytest.mark.parametrize("name", [f"{k}-z{d}" for k, d, _, _ in RUNS])
def test_page_decodes_like_torch_and_answers_the_pointer_and_sliders_in_chromium(
    explorers: dict[str, Path], name: str
) -> None:
    diff, frames, ui = selftest_results(explorers[name] / "explorer.html")
    assert diff <= 1e-4 and frames == 7
    expected = {"pointer": "1", "hover": "1", "slider": "1", "path": "1", "zoom": "1", "pan": "1", "legend": "1",
                "rotate": "1" if name != "vae-z2" else "none"}
    assert {k: ui[k] for k in expected} == expected
    assert 0 < float(ui["decode_ms"]) < 50


def test_check_explorers_command_passes_good_pages_and_fails_a_broken_decoder(
    explorers: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``latentwalk check-explorers RESULTS``: one line per page; a page whose JavaScript decodes wrong fails."""
    from latentwalk.report.cli import main
    from latentwalk.report.explorer import find_browser

    if find_browser() is None:
        pytest.skip("chromium is not installed (Debian package 'chromium'; .ci/run installs it)")
    results = tmp_path / "results"
    (results / "explorer/digits").mkdir(parents=True)
    good = results / "explorer/digits/vae-z2.html"
    shutil.copy(explorers["vae-z2"] / "explorer.html", good)
    assert main(["check-explorers", str(results)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("ok   explorer/digits/vae-z2.html: 0.") and "pointer=1 hover=1 slider=1" in out[0]
    assert out[-1] == "check-explorers: 1 page(s), 0 failed (max_abs_diff <= 0.0001 and every interaction)"

    html = good.read_text()
    broken = results / "explorer/digits/ae-z3.html"
    relu = "if (x[i] < 0) x[i] = 0;"
    assert html.count(relu) == 1
    broken.write_text(html.replace(relu, "if (x[i] < -0.05) x[i] = 0;"))  # a subtly wrong ReLU
    assert main(["check-explorers", str(results)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("FAIL explorer/digits/ae-z3.html") and out[1].startswith("ok   explorer/digits/vae-z2.html")
    assert float(re.search(r"max_abs_diff=(\S+)", out[0]).group(1)) > 1e-4
    assert out[-1].startswith("check-explorers: 2 page(s), 1 failed")
    assert main(["check-explorers", str(tmp_path / "nothing")]) == 2

