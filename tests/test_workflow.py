"""Workflow tests: run Snakemake on a tiny config in a copy of the repository.

The copy holds the tracked workflow files only (Snakefile, workflow/, schemas,
report captions); the package itself is imported from the installed
(editable) checkout. Working on a copy lets a test edit a package source file
and check that exactly the dependent rules are scheduled again.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.workflow

from _helpers import selftest_results
from _workflow import RUNS, TINY, TINY_METHODS, _copy_repo, scheduled, snakemake

VIEW_RUNS = [run for run in RUNS if run.startswith("views/")]

def test_all_artifacts_appear(tiny_run: Path) -> None:
    res = tiny_run / "results"
    for dataset in TINY["datasets"]:
        assert (res / f"data/{dataset}.npz").stat().st_size > 0
        prov = json.loads((res / f"data/{dataset}.json").read_text())
        assert prov["stage"] == "prepare_data" and prov["seed"] == 7
        assert (res / f"logs/prepare_data/{dataset}.log").exists()
        assert (res / f"benchmarks/prepare_data/{dataset}.tsv").exists()
    for run in RUNS:
        model_dir = res / "models" / run
        for name in ("model.pt", "train_log.csv", "meta.json"):
            assert (model_dir / name).stat().st_size > 0, name
        history = pd.read_csv(model_dir / "train_log.csv")
        critic = ["adversarial", "critic"] if "/acai-" in run else []  # ACAI's two-player game, per epoch
        assert list(history.columns) == ["epoch", "loss", "reconstruction", "kl", *critic]
        assert history["epoch"].tolist() == [1, 2]
        meta = json.loads((model_dir / "meta.json").read_text())
        assert meta["run"] == run and meta["config"]["train"]["epochs"] == 2
        assert meta["n_train"] + meta["n_test"] > 0 and "torch" in meta["versions"]
        log = (res / "logs/train" / f"{run}.log").read_text()
        assert "epoch    1/2" in log and "epoch    2/2" in log, log
        table = pd.read_parquet(res / "latents" / f"{run}.parquet")
        n = 1797 if run.startswith("digits") else 240
        assert len(table) == n
        assert {"index", "split", "label", "mu_0", "mu_1", "norm"} <= set(table.columns)
        assert ("logvar_0" in table.columns) == ("/vae" in run)
        np.testing.assert_allclose(table["norm"], np.hypot(table["mu_0"], table["mu_1"]), rtol=1e-5)
        for fig in ("training_curves", "latent_scatter"):
            assert (res / "figures" / run / f"{fig}.png").stat().st_size > 1000
            assert (res / "figures" / run / f"{fig}.svg").stat().st_size > 1000


def test_every_job_that_runs_a_model_keeps_to_its_snakemake_threads(tiny_run: Path) -> None:
    """Torch's default is every core of the machine (2 here): each model job runs on its rule's threads (config
    `threads`, train.threads: 1), as its log's last lines record, and the jobs without a model never load torch."""
    logs = tiny_run / "results" / "logs"
    model_rules = {"train", "encode", "decoder_paths", "decode", "project"}
    for rule in model_rules:
        runs = sorted((logs / rule).rglob("*.log"))
        assert runs, rule
        for path in runs:
            assert path.read_text().splitlines()[-2].endswith("torch threads: 1"), path
    for path in (logs / "generate_paths").rglob("*.log"):
        assert "torch threads" not in path.read_text(), path


def test_paths_and_decoded_walks(tiny_run: Path) -> None:
    res = tiny_run / "results"
    for run, methods in TINY_METHODS.items():
        produced = sorted(p.stem for p in (res / "paths" / run).glob("*.parquet"))
        assert produced == sorted(methods), run
        assert sorted(p.stem for p in (res / "decoded" / run).glob("*.npz")) == sorted(methods), run
        side = {"digits": 8, "lines": 32, "views": TINY["data"]["views"]["size"]}[run.split("/")[0]]
        channels = TINY["data"]["views"]["channels"] if run.startswith("views/") else 1  # views in colour
        for method in methods:
            table = pd.read_parquet(res / "paths" / run / f"{method}.parquet")
            assert (table["method"] == method).all()
            z = table[["z_0", "z_1"]].to_numpy()
            np.testing.assert_allclose(table["norm"], np.linalg.norm(z, axis=1), rtol=1e-12)
            with np.load(res / "decoded" / run / f"{method}.npz") as decoded:
                images = decoded["images"]
                assert images.shape == (table["path_id"].nunique(), table["step"].nunique(), side, side, channels), (run, method)
                assert images.dtype == np.float32 and images.min() >= 0.0 and images.max() <= 1.0
        lerp = pd.read_parquet(res / "paths" / run / "lerp.parquet")
        geo = pd.read_parquet(res / "paths" / run / "geodesic.parquet")
        pairs = TINY["paths"]["pairs"]["n"] * (2 if run.startswith("views/") else 1)  # views: same- and cross-object
        assert lerp["path_id"].nunique() == pairs and geo["path_id"].nunique() == 2
        first = lerp[lerp["step"] == 0][["index_a", "index_b"]].to_numpy()[:2]
        np.testing.assert_array_equal(geo[geo["step"] == 0][["index_a", "index_b"]].to_numpy(), first)
        if "sphere_spiral" in methods:
            spiral = pd.read_parquet(res / "paths" / run / "sphere_spiral.parquet")
            np.testing.assert_allclose(spiral["norm"], np.sqrt(2), rtol=1e-9)
        log = (res / "logs/generate_paths" / f"{run}.log").read_text()
        assert all(f"{m}: " in log for m in methods)
        assert f"geodesic: 2 paths, {len(geo)} points, taken from results/decoder_paths/{run}" in log
        made = res / "decoder_paths" / run / "geodesic.parquet"  # made by its own job, copied byte for byte
        assert made.read_bytes() == (res / "paths" / run / "geodesic.parquet").read_bytes()
        log = (res / "logs/decoder_paths" / f"{run}.log").read_text()
        for pair in range(TINY["paths"]["geodesic"]["n_pairs"]):  # each geodesic's energies and dense lengths
            for metric in ("mean", "variance"):  # geodesic and geodesic_variance
                name = f"geodesic ({metric} metric) pair {pair}"
                assert f"{name} refined,  41 nodes: energy" in log and f"{name}: dense decoded length" in log
        variance = pd.read_parquet(res / "paths" / run / "geodesic_variance.parquet")  # the same pairs, another metric
        np.testing.assert_array_equal(variance[["index_a", "index_b"]].to_numpy(), geo[["index_a", "index_b"]].to_numpy())
        fit = json.loads((res / "decoder_paths" / run / "variance.json").read_text())
        assert fit["centres"] == 8 and fit["settings"]["max_codes"] == 200
        with np.load(res / "decoder_paths" / run / "magnification.npz") as grid:
            assert grid["std"].shape == grid["values"].shape == (40, 40)  # the map's second panel


def test_every_run_has_a_projection_and_an_explorer_that_works_in_chromium(tiny_run: Path, tmp_path: Path) -> None:
    """Each run's projection table and explorer page; every page decodes like torch and answers the UI in Chromium."""
    res = tiny_run / "results"
    for run, methods in TINY_METHODS.items():
        table = pd.read_parquet(res / "projections" / f"{run}.parquet")
        latents = pd.read_parquet(res / "latents" / f"{run}.parquet")
        assert len(table) == min(TINY["explorer"]["max_points"], int((latents["split"] == "test").sum()))
        np.testing.assert_array_equal(table[["x", "y"]].to_numpy(), table[["mu_0", "mu_1"]].to_numpy())  # d = 2
        page = res / "explorer" / f"{run}.html"
        html = page.read_text()
        assert not re.search(r"https?://", html) and len(html) < 3_000_000
        overlays = json.loads(re.search(r'type="application/json">(.*?)</script>', html, flags=re.S).group(1))["paths"]
        wanted = [m for m in TINY["explorer"]["overlays"] if m in methods]
        assert sorted({p["method"] for p in overlays}) == sorted(wanted), run
        diff, frames, ui = selftest_results(page)
        assert diff <= 1e-4 and frames == TINY["explorer"]["selftest_frames"] + 2, (run, diff)
        assert {k: ui[k] for k in ("pointer", "hover", "slider", "path", "zoom", "pan", "legend")} == dict.fromkeys(
            ("pointer", "hover", "slider", "path", "zoom", "pan", "legend"), "1"), (run, ui)
        assert (res / "logs/explorer" / f"{run}.log").read_text().count("explorer with") == 1


CATEGORIES = (
    "Data and training",
    "Latent space",
    "Interpolation",
    "Traversal",
    "Hypersphere geometry",
    "Norm concentration",
    "Interpolation quality",
    "Viewpoints",
    "Sweep comparison",
    "Explore",
    "Provenance",
)


def expected_figures() -> list[str]:
    """Every PNG the tiny run must draw (written out by hand from what each run's path methods allow)."""
    out = ["geometry/hypersphere.png", "geometry/norm_histograms.png", "geometry/shell_width.png",
           "geometry/unit_sphere_spiral_n3.png", "geometry/unit_sphere_spiral_n4.png",
           *[f"comparison/{dataset}.png" for dataset in TINY["datasets"]]]
    for run, methods in TINY_METHODS.items():
        out += [f"{run}/{name}.png" for name in ("training_curves", "latent_scatter", "path_norms", "path_quality")]
        out += [f"{run}/walks/{name}.png" for name in ("grid", "interpolation_strips", "spiral")]
        out += [f"{run}/walks/{m}.png" for m in ("traverse_axis", "traverse_pca", "attribute", "sphere_spiral") if m in methods]
        if "geodesic" in methods:  # the decoder's magnification map, computed beside the geodesics
            out.append(f"{run}/walks/magnification.png")
        if "prior_pairs" in methods:
            out.append(f"{run}/walks/prior_pair_strips.png")
        if run.startswith("views/"):
            out += [f"{run}/{name}.png" for name in ("view_strips", "view_azimuths", "view_scatter")]
    return out + ["data/views.png"]


def test_every_figure_is_drawn_and_not_blank(tiny_run: Path) -> None:
    import matplotlib.image as mpimg

    figures = tiny_run / "results/figures"
    drawn = sorted(str(p.relative_to(figures)) for p in figures.rglob("*.png"))
    assert drawn == sorted(expected_figures())
    for name in drawn:
        image = mpimg.imread(figures / name)
        assert image.shape[0] >= 150 and image.shape[1] >= 300, (name, image.shape)
        assert float(image[..., :3].std()) > 0.03, name  # not a blank canvas
        svg = (figures / name).with_suffix(".svg")
        if "/walks/" in name or name.endswith("view_strips.png") or name.startswith("data/"):  # raster: PNG only
            assert not svg.exists(), name
        else:  # plots: an SVG beside the PNG, for papers
            assert svg.stat().st_size > 2000, name


def test_spiral_gif_has_one_frame_per_step(tiny_run: Path) -> None:
    from PIL import Image

    for run in TINY_METHODS:
        with Image.open(tiny_run / "results/figures" / run / "walks/spiral.gif") as gif:
            assert gif.n_frames == TINY["paths"]["spiral"]["steps"]


def test_views_runs_are_scored_against_the_true_views(tiny_run: Path) -> None:
    """Views: same-object pairs then cross-object pairs; every frame has a distance, an azimuth and an object; the
    true-image cross-fade is the same in every run (same pairs); the decoded one blends the run's own endpoints."""
    stats = tiny_run / "results/stats"
    summary = pd.read_csv(stats / "summary.csv")
    views = summary[summary["dataset"] == "views"]
    fade = views[views["method"] == "crossfade"]
    assert len(fade) == len(VIEW_RUNS) and fade["mean_distance"].nunique() == 1 and fade["identity_drift"].eq(0).all()
    for run in VIEW_RUNS:
        frames = pd.read_csv(stats / run / "path_quality.csv")
        lerp = frames[frames["method"] == "lerp"]
        n = TINY["paths"]["pairs"]["n"]
        same = lerp.groupby("pair")["same_object"].first()
        assert same.tolist() == [True] * n + [False] * n, run
        assert lerp["view_distance"].between(0, 1).all() and lerp["view_azimuth"].between(0, 2 * np.pi).all()
        assert set(lerp["view_object"]) <= {0, 1, 2, 3}
        mine = views[views["model"] == run.split("/")[1].rsplit("-z", 1)[0]].set_index("method")
        # the summary scores lerp on the pairs the geodesic walks too (the first n_pairs), as every compared method
        geodesic = frames[frames["method"] == "geodesic"]
        shared = set(zip(geodesic["index_a"], geodesic["index_b"]))
        assert len(shared) == TINY["paths"]["geodesic"]["n_pairs"] and mine.loc["lerp", "paths"] == len(shared)
        on = lerp[[pair in shared for pair in zip(lerp["index_a"], lerp["index_b"])]]
        assert mine.loc["lerp", "identity_drift"] == pytest.approx(  # the summary CSV keeps 10 significant digits
            on.loc[on["same_object"], "identity_drift"].mean(), abs=1e-9)
        decoded = frames[frames["method"] == "crossfade_decoded"]
        ends = decoded[decoded["step"].isin([0, decoded["step"].max()])]
        # the decoded cross-fade starts and ends on the run's own lerp endpoints
        np.testing.assert_allclose(ends["view_distance"].to_numpy(),
                                   lerp[lerp["step"].isin([0, lerp["step"].max()])]["view_distance"].to_numpy(), atol=1e-6)
    assert "views/vae-z2** Mean Distance / Smoothness" in (stats / "key_numbers.rst").read_text()


def test_statistics_tables(tiny_run: Path) -> None:
    stats = tiny_run / "results/stats"
    conc = pd.read_csv(stats / "norm_concentration.csv")
    assert conc["dim"].tolist() == [1, 10, 100] and (conc["n"] == 2000).all()
    assert len(pd.read_csv(stats / "hypersphere.csv")) == 20
    summary = pd.read_csv(stats / "summary.csv")
    assert set(summary["method"]) == {"lerp", "slerp", "lerp_matched", "geodesic", "geodesic_variance", "prior_pairs",
                                      "crossfade", "crossfade_decoded"}
    assert set(summary.loc[summary["method"].str.startswith("crossfade"), "dataset"]) == {"views"}  # views' baselines
    lines = summary[summary["dataset"] == "lines"]
    assert lines["mean_distance"].notna().all()
    # Smoothness is NaN only where every path's angle stands still (2-epoch models), as in the benchmark
    undefined = lines["smoothness"].isna()
    assert (lines.loc[undefined, "smoothness_undefined"] > 0).all() and (lines.loc[~undefined, "smoothness"] > -1).all()
    digits = summary[summary["dataset"] == "digits"]
    assert digits["confidence"].between(0, 1).all() and digits["nn_distance"].notna().all()
    for run in TINY_METHODS:
        for name in ("path_norms", "path_norm_summary", "encoded_norms", "path_quality", "path_quality_summary"):
            assert (stats / run / f"{name}.csv").stat().st_size > 0
    text = (stats / "key_numbers.rst").read_text()
    assert "Norm concentration" in text and "Frame classifier" in text
    assert "- **Geodesics**: " in text and "- **Variance-metric geodesics**: " in text
    for run in ("lines/ae-z2", "views/vae-z2"):  # every pair method on the same pairs, both geodesics among them
        dataset, model = run.split("/")[0], run.split("/")[1].rsplit("-z", 1)[0]
        mine = summary[(summary["dataset"] == dataset) & (summary["model"] == model) & (summary["method"] == summary["walk"])]
        compared = mine[mine["method"].isin(["lerp", "slerp", "geodesic", "geodesic_variance"])].set_index("method")
        assert len(compared) == 4 and (compared["paths"] == TINY["paths"]["geodesic"]["n_pairs"]).all(), compared
    runs = pd.read_csv(stats / "runs.csv")
    assert [f"{r.dataset}/{r.model}-z{r.dim}" for r in runs.itertuples()] == RUNS
    for row in runs.itertuples():
        meta = json.loads((tiny_run / f"results/models/{row.dataset}/{row.model}-z{row.dim}/meta.json").read_text())
        assert row.test_reconstruction == pytest.approx(meta["test"]["reconstruction"], rel=1e-9)
        assert row.test_kl == pytest.approx(meta["test"]["kl"], rel=1e-9)
        assert row.kl_weight == {"ae": 0.0, "vae": 1.0, "acai": 0.0}[row.model] and row.kind == row.model
        encoded = pd.read_csv(stats / f"{row.dataset}/{row.model}-z{row.dim}/encoded_norms.csv").set_index("split")
        assert row.active_dims == encoded.loc["test", "active_dims"] and 0 <= row.active_dims <= row.dim
        mine = summary[(summary["dataset"] == row.dataset) & (summary["model"] == row.model) & (summary["method"] == "slerp")]
        assert row.outside_shell_slerp == pytest.approx(float(mine["share_outside_shell"].iloc[0]), abs=1e-9)
        quality = "confidence" if row.dataset == "digits" else "mean_distance"
        assert getattr(row, f"{quality}_lerp") == pytest.approx(
            float(summary[(summary["dataset"] == row.dataset) & (summary["model"] == row.model)
                          & (summary["method"] == "lerp")][quality].iloc[0]), rel=1e-9)


def test_report_contains_every_figure(tiny_run: Path) -> None:
    html = (tiny_run / "results/report.html").read_text()
    for category in CATEGORIES:
        assert category in html, category
    for name in expected_figures():
        assert Path(name).name in html
    assert "spiral.gif" in html and "summary.csv" in html
    labels = ("training curves", "latent scatter", "decoded grid", "interpolation strips", "prior-pair strips", "spiral walk",
              "spiral walk (animation)", "norm along paths", "quality along paths", "unit-sphere spiral", "norm histograms",
              "shell width", "unit-ball volume and sphere surface", "summary table", "axis traversal", "PCA traversal",
              "attribute walk", "sphere-spiral walk", "runs side by side", "table: one row per run", "latent explorer",
              "viewpoint strips", "recovered azimuth", "latents by azimuth", "contact sheet")
    for label in labels:
        assert f'"{label}"' in html, label
    assert "Key numbers of this run" in html  # the generated introduction was included


def report_items(html: str) -> dict[str, dict]:
    """The report's registered items (path -> name, labels, caption HTML, ...), from its embedded JSON."""
    start = html.index('results = {"results/') + len("results = ")
    items, _ = json.JSONDecoder().raw_decode(html, start)
    return items


#: The opening words of each walk figure's caption (workflow/report/walk_figures.rst).
WALK_CAPTIONS = {
    "grid.png": "Decoded grid of the run",
    "spiral.png": "The spiral walk of the run",
    "spiral.gif": "Animation of the spiral walk",
    "interpolation_strips.png": "Interpolations between encoded test pairs",
    "prior_pair_strips.png": "Walks between prior samples",
    "traverse_axis.png": "Axis traversal of the run",
    "traverse_pca.png": "PCA traversal of the run",
    "attribute.png": "Latent arithmetic in the run",
    "sphere_spiral.png": "The spiral on the prior",
    "magnification.png": "The magnification map of the run",
}


def test_every_report_item_carries_its_own_caption(tiny_run: Path) -> None:
    items = report_items((tiny_run / "results/report.html").read_text())
    figures = {f"results/figures/{name}" for name in expected_figures()}
    figures |= {f"results/figures/{run}/walks/spiral.gif" for run in TINY_METHODS}
    assert figures <= set(items)
    for path, item in items.items():
        text = re.sub(r"<[^>]+>", "", item["caption"])
        assert len(text) > 80 and "No caption" not in text, path
        if "/walks/" in path:
            assert text.startswith(WALK_CAPTIONS[item["name"]]), (path, text[:80])
    for run in TINY_METHODS:
        walk = re.sub(r"<[^>]+>", "", items[f"results/figures/{run}/walks/sphere_spiral.png"]["caption"]) \
            if "sphere_spiral" in TINY_METHODS[run] else None
        if walk is not None:  # the run's own radius (sqrt(d) for d = 2) and the configured loops
            assert "√d = √2 ≈ 1.41" in walk and f"winds\n{TINY['paths']['sphere_spiral']['loops']} times" in walk, walk
        quality = items[f"results/figures/{run}/path_quality.png"]["caption"]
        assert ("true lines" in quality) == run.startswith("lines") and ("classifier" in quality) == run.startswith("digits")
        assert ("reference renders of every object" in re.sub(r"\s+", " ", quality)) == run.startswith("views")
    for run in VIEW_RUNS:
        strips = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", items[f"results/figures/{run}/view_strips.png"]["caption"]))
        assert f"(the first {TINY['figures']['strip_pairs']} such pairs)" in strips, strips
        azimuths = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", items[f"results/figures/{run}/view_azimuths.png"]["caption"]))
        assert f"({TINY['data']['views']['reference_azimuths']} azimuths per object;" in azimuths, azimuths
    for n in TINY["figures"]["sphere"]["dims"]:
        caption = items[f"results/figures/geometry/unit_sphere_spiral_n{n}.png"]["caption"]
        assert f"unit sphere in R^{n}" in caption and "prior's sphere" not in caption
    for dataset in TINY["datasets"]:
        caption = re.sub(r"<[^>]+>", "", items[f"results/figures/comparison/{dataset}.png"]["caption"])
        assert caption.startswith(f"Every run of dataset {dataset} side by side"), caption[:80]
    assert "One row per run" in items["results/stats/runs.csv"]["caption"]
    for run in TINY_METHODS:
        caption = re.sub(r"<[^>]+>", "", items[f"results/explorer/{run}.html"]["caption"])
        assert caption.startswith(f"Interactive latent explorer of the run {run}"), caption[:80]


def test_the_line_benchmark_writes_every_evaluation_its_table_and_curves(tiny_run: Path) -> None:
    bench = tiny_run / "results/acai_benchmark"
    evaluations = pd.read_csv(bench / "evaluations.csv")
    assert list(evaluations.columns) == ["model", "seed", "samples_seen", "mean_distance", "smoothness", "pairs", "frames"]
    models = ["ae", "dropout_ae", "denoising_ae", "vae", "acai"]
    assert sorted(set(evaluations["model"])) == sorted(models) and len(evaluations) == 5  # one batch, one evaluation
    assert set(evaluations["samples_seen"]) == {64} and set(evaluations["pairs"]) == {2}
    table = pd.read_csv(bench / "table.csv")
    assert list(table["model"]) == models and list(table["label"]) == ["Baseline", "Dropout", "Denoising", "VAE", "ACAI"]
    assert set(table["seeds"]) == {1} and table["reduced_budget"].all() and set(table["samples"]) == {64}
    assert {"eval_every", "eval_pairs", "median_of", "architecture", "learning_rate", "batch_size"} <= set(table.columns)
    assert table.set_index("model").loc["dropout_ae", "paper_mean_distance_e3"] == 2.85
    items = report_items((tiny_run / "results/report.html").read_text())
    for name in ("table.png", "curve.png", "table.csv"):
        caption = re.sub(r"<[^>]+>", "", items[f"results/acai_benchmark/{name}"]["caption"])
        assert "reduced budget" in caption or name == "curve.png", caption
        assert len(caption) > 200 and "No caption" not in caption


def test_report_for_a_partial_target(tiny_run: Path) -> None:
    """A report over part of the DAG (no summary yet) still builds; it just has no key numbers."""
    proc = snakemake(tiny_run, "results/latents/digits/vae-z2.parquet", "--configfile", "tiny.yaml",
                     "--report", "partial.html")
    html = (tiny_run / "partial.html").read_text()
    assert "Key numbers of this run" not in html and "Data and training" in html, proc.stderr[-2000:]


def test_report_renders_in_headless_chromium(tiny_run: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (Debian package 'chromium'; .ci/run installs it)")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
             "--virtual-time-budget=10000", "--window-size=1400,1000"]
    url = (tiny_run / "results/report.html").as_uri()
    dom = subprocess.run([*flags, "--dump-dom", url], capture_output=True, text=True, timeout=180)
    assert dom.returncode == 0, dom.stderr[-2000:]
    for category in CATEGORIES:
        assert category in dom.stdout, category
    shot = tmp_path / "report.png"
    subprocess.run([*flags, f"--screenshot={shot}", url], capture_output=True, timeout=180, check=True)
    assert shot.stat().st_size > 20_000

    # open two items as a reader would (the report app's own navigation) and read what the page shows
    for item, caption in (("results/figures/lines/vae-z2/walks/sphere_spiral.png", "spiral on the prior's sphere in the run"),
                          ("results/figures/geometry/unit_sphere_spiral_n4.png", "unit sphere in R^4"),
                          ("results/figures/comparison/digits.png", "Every run of dataset digits side by side")):
        html = (tiny_run / "results/report.html").read_text()
        script = (f"<script>window.addEventListener('load', () => setTimeout(() => app.showResultInfo('{item}'), 1500));"
                  "</script></body>")
        page = tmp_path / "open_item.html"
        page.write_text(html[: html.rindex("</body>")] + script + html[html.rindex("</body>") + 7 :])
        dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=180)
        shown = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", dom.stdout, flags=re.S))
        assert caption in shown and item.rsplit("/", 1)[1] in shown, item


def test_second_run_does_nothing(tiny_run: Path) -> None:
    proc = snakemake(tiny_run, "--configfile", "tiny.yaml", "-n")
    assert "Nothing to be done" in proc.stdout + proc.stderr
    assert scheduled(proc) == {}


def test_training_parameter_change_reruns_training_not_data(tiny_run: Path, tmp_path: Path) -> None:
    changed = json.loads(json.dumps(TINY))
    changed["train"]["learning_rate"] = 0.002
    (tiny_run / "tiny_lr.yaml").write_text(yaml.safe_dump(changed))
    dry = scheduled(snakemake(tiny_run, "--configfile", "tiny_lr.yaml", "-n"))
    assert dry.get("train") == len(RUNS)
    assert dry.get("encode") == len(RUNS)
    for rule in ("decoder_paths", "generate_paths", "decode", "path_stats"):
        assert dry.get(rule) == len(RUNS), rule  # one job per run
    assert dry.get("plot_walks") == len(RUNS) and dry.get("plot_views") == len(VIEW_RUNS), dry
    assert "prepare_data" not in dry


def test_one_path_method_change_reruns_the_cheap_paths_job_not_the_geodesics(tiny_run: Path) -> None:
    """paths.lerp.steps reruns each run's latent-only path job and what reads the paths (the run's figure job among
    them): no training, encoding, geodesic optimisation or projection. A geodesic setting reruns the geodesic jobs,
    which the path jobs then take in."""
    changed = json.loads(json.dumps(TINY))
    changed["paths"]["lerp"] = {**changed["paths"].get("lerp", {}), "steps": 7}
    (tiny_run / "tiny_lerp.yaml").write_text(yaml.safe_dump(changed))
    dry = scheduled(snakemake(tiny_run, "--configfile", "tiny_lerp.yaml", "-n"))
    assert dry.get("generate_paths") == len(RUNS), dry
    assert not {"prepare_data", "train", "encode", "decoder_paths", "project"} & set(dry), dry
    assert dry.get("plot_walks") == len(RUNS) and dry.get("plot_views") == len(VIEW_RUNS), dry  # they read the paths
    changed["paths"]["geodesic"] = {**changed["paths"]["geodesic"], "iterations": 50}
    (tiny_run / "tiny_geodesic.yaml").write_text(yaml.safe_dump(changed))
    dry = scheduled(snakemake(tiny_run, "--configfile", "tiny_geodesic.yaml", "-n"))
    assert dry.get("decoder_paths") == len(RUNS) and dry.get("generate_paths") == len(RUNS), dry
    assert not {"prepare_data", "train", "encode"} & set(dry), dry


#: The runs' figure jobs: one per run, and one more per views run for its viewpoint figures.
WALK_FIGURES = {"plot_walks": len(RUNS), "plot_views": len(VIEW_RUNS)}
#: The jobs any change reruns: the manifest of every artifact, the report, and the default target.
AUDIT = {"manifest": 1, "report": 1, "all": 1}
#: The cross-run jobs that adding or removing a run schedules (besides the new runs' own jobs).
CROSS_RUN = {"summary", "key_numbers", "compare_runs", "plot_comparison", *AUDIT}


def dry_run_after_edit(workdir: Path, module: str) -> dict[str, int]:
    """Jobs a dry run schedules after appending a comment to a package module (restored afterwards)."""
    path = workdir / "workflow/latentwalk" / module
    original = path.read_text()
    try:
        path.write_text(original + "\n# edited by the test\n")
        return scheduled(snakemake(workdir, "--configfile", "tiny.yaml", "-n"))
    finally:
        path.write_text(original)


def test_package_edit_reruns_dependents_only(tiny_run: Path) -> None:
    """Editing a module reruns the jobs that run it and their consumers, never what lies upstream."""
    dry = dry_run_after_edit(tiny_run, "model/training.py")
    assert dry.get("train") == len(RUNS)
    assert dry.get("encode") == len(RUNS)
    assert "prepare_data" not in dry

    dry = dry_run_after_edit(tiny_run, "figures/style.py")
    assert dry == {**WALK_FIGURES, "plot_view_dataset": 1,
                   "plot_geometry": 1, "plot_comparison": 1, "acai_table": 1,
                   **AUDIT}, dry  # figures only (the line benchmark's table draws two; its training jobs do not)

    dry = dry_run_after_edit(tiny_run, "figures/decoded.py")
    assert dry == {**WALK_FIGURES, "plot_view_dataset": 1, **AUDIT}, dry  # image figures

    dry = dry_run_after_edit(tiny_run, "figures/viewpoints.py")
    assert dry == {"plot_views": len(VIEW_RUNS), "plot_view_dataset": 1, **AUDIT}, dry  # only the views figures

    dry = dry_run_after_edit(tiny_run, "model/decode.py")
    assert dry.get("decode") == len(RUNS)
    assert not {"prepare_data", "train", "encode", "generate_paths"} & set(dry), dry  # upstream untouched


def _jobs_by_rule(proc: subprocess.CompletedProcess[str]) -> dict[str, set[str]]:
    """Rule -> the run of each scheduled job (from the dry run's job blocks; '' for jobs without a run)."""
    jobs: dict[str, set[str]] = {}
    for block in re.split(r"\n(?=\s*(?:local)?rule \w+:)", proc.stdout + proc.stderr):  # grouped jobs are indented
        head = re.match(r"(?:local)?rule (\w+):", block.strip())
        if not head:
            continue
        wild = re.search(r"wildcards: dataset=(\w+), model=([\w.+-]+), dim=(\d+)", block)
        jobs.setdefault(head.group(1), set()).add(f"{wild.group(1)}/{wild.group(2)}-z{wild.group(3)}" if wild else "")
    return jobs


#: Each run's own jobs (plot_views: views runs only).
PER_RUN = {"train", "encode", "decoder_paths", "generate_paths", "decode", "path_stats", "project", "explorer", "plot_walks"}


def assert_new_runs_jobs(jobs: dict[str, set[str]], new_runs: set[str]) -> None:
    """The dry run schedules the new runs' own jobs and the cross-run ones, nothing else."""
    assert set(jobs) == PER_RUN | CROSS_RUN | {"plot_views"}, jobs
    for rule in PER_RUN:
        assert jobs[rule] == new_runs, (rule, jobs[rule])
    assert jobs["plot_views"] == {run for run in new_runs if run.startswith("views/")}


def test_adding_a_run_adds_jobs_and_reruns_nothing_that_exists(tiny_run: Path) -> None:
    """A new latent dim schedules the new runs' jobs and the cross-run tables, nothing of the existing runs."""
    grown = json.loads(json.dumps(TINY))
    grown["latent_dims"] = [2, 3]
    (tiny_run / "tiny_grown.yaml").write_text(yaml.safe_dump(grown))
    proc = snakemake(tiny_run, "--configfile", "tiny_grown.yaml", "-n")
    jobs = _jobs_by_rule(proc)
    new_runs = {f"{d}/{m}-z3" for d in TINY["datasets"] for m in TINY["models"]}
    assert_new_runs_jobs(jobs, new_runs)


def test_a_swept_kl_weight_adds_runs_named_by_it(tiny_run: Path) -> None:
    """model.beta as a list: one beta-VAE run per KL weight, named by it; nothing of the existing runs reruns."""
    grown = json.loads(json.dumps(TINY))
    grown["models"] = ["ae", "vae", "beta_vae"]
    grown["model"] = {**grown["model"], "beta": [2, 0.5]}
    (tiny_run / "tiny_betas.yaml").write_text(yaml.safe_dump(grown))
    jobs = _jobs_by_rule(snakemake(tiny_run, "--configfile", "tiny_betas.yaml", "-n"))
    new_runs = {f"{d}/beta_vae-b{b}-z2" for d in TINY["datasets"] for b in ("2", "0.5")}
    assert_new_runs_jobs(jobs, new_runs)


def test_removing_a_run_reruns_only_the_cross_run_tables(tiny_run: Path) -> None:
    shrunk = json.loads(json.dumps(TINY))
    shrunk["models"] = ["vae"]
    (tiny_run / "tiny_shrunk.yaml").write_text(yaml.safe_dump(shrunk))
    assert scheduled(snakemake(tiny_run, "--configfile", "tiny_shrunk.yaml", "-n")) == {
        "summary": 1, "key_numbers": 1, "compare_runs": 1, "plot_comparison": 1, **AUDIT}


def test_invalid_config_fails_before_any_job(tmp_path: Path) -> None:
    work = _copy_repo(tmp_path)
    bad = json.loads(json.dumps(TINY))
    bad["models"] = ["ae", "gan"]
    (work / "bad.yaml").write_text(yaml.safe_dump(bad))
    proc = snakemake(work, "--configfile", "bad.yaml", check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "config key models[1]: 'gan' is not allowed; allowed values: 'ae', 'vae', 'beta_vae'" in out
    assert not (work / "results").exists()


def _synthetic_mnist(directory: Path, n: int = 50) -> None:
    from latentwalk.data.idx import write_idx

    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    write_idx(directory / "t10k-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28), dtype=np.uint8))
    write_idx(directory / "t10k-labels-idx1-ubyte.gz", (np.arange(n) % 10).astype(np.uint8))


def test_mnist_from_directory_and_from_verified_download(tmp_path: Path) -> None:
    """data.mnist.dir reads the IDX files; data.mnist.base_url downloads them with SHA-256 checks."""
    import functools
    import http.server
    import threading

    from latentwalk.core.io import sha256_file

    work = _copy_repo(tmp_path / "repo")
    served = tmp_path / "served"
    _synthetic_mnist(served)
    base = {"datasets": ["mnist"], "models": ["ae"], "latent_dims": [2]}

    local = {**base, "data": {"mnist": {"dir": str(served)}}}
    (work / "local.yaml").write_text(yaml.safe_dump(local))
    snakemake(work, "results/data/mnist.npz", "--configfile", "local.yaml")
    with np.load(work / "results/data/mnist.npz") as data:
        assert data["images"].shape == (50, 28, 28, 1) and sorted(set(data["split"])) == ["test", "train"]
    shutil.rmtree(work / "results")

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        names = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
        sums = {name: sha256_file(served / name) for name in names}
        url = f"http://127.0.0.1:{server.server_address[1]}"
        remote = {**base, "data": {"mnist": {"base_url": url, "files": names, "sha256": sums}}}
        (work / "remote.yaml").write_text(yaml.safe_dump(remote))
        snakemake(work, "results/data/mnist.npz", "--configfile", "remote.yaml")
        for name in names:
            assert sha256_file(work / "results/downloads/mnist" / name) == sums[name]
        assert (work / "results/data/mnist.npz").exists()

        shutil.rmtree(work / "results")
        wrong = {name: "0" * 64 for name in names}
        remote["data"]["mnist"]["sha256"] = wrong
        (work / "wrong.yaml").write_text(yaml.safe_dump(remote))
        proc = snakemake(work, "results/data/mnist.npz", "--configfile", "wrong.yaml", check=False)
        assert proc.returncode != 0
        assert "SHA-256 mismatch" in proc.stdout + proc.stderr
        assert not any((work / "results/downloads/mnist").glob("*.gz"))
        assert not (work / "results/data/mnist.npz").exists()
    finally:
        server.shutdown()
        server.server_close()
