"""Models trained elsewhere (config ``external_models``): loading either format, the checks that refuse a model that
does not fit its dataset (each one clear line naming the file), the import record, and the explorer page's reading of
a user's decoder."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from _external import BlendDecoder, PairEncoder, conv_decoder, mlp_decoder, save_exported, save_traced, user_models
from _helpers import one_line
from torch import nn

from latentwalk.core.config import iter_runs, load_schema, validate_config
from latentwalk.core.io import LatentwalkError
from latentwalk.core.registry import EXTERNAL_KIND, Run, is_external, why_not
from latentwalk.data.dataset import Dataset, save_dataset
from latentwalk.model.checkpoint import load_run_model
from latentwalk.model.encode import encode_images
from latentwalk.model.external import ExternalModel, ExternalSpec, file_format, import_model, load_module
from latentwalk.report.graph_layers import Unsupported, external_layers
from latentwalk.report.project import decode_layers

SIDE, CHANNELS = 8, 3
REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"


@pytest.fixture(scope="module")
def schema() -> dict:
    return load_schema(SCHEMA)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    return user_models(tmp_path_factory.mktemp("models"), CHANNELS, SIDE)


@pytest.fixture(scope="module")
def data_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("data") / "shapes.npz"
    images = rng.integers(0, 256, (20, SIDE, SIDE, CHANNELS), dtype=np.uint8)
    save_dataset(Dataset(images, rng.integers(0, 2, 20), np.array(["train"] * 15 + ["test"] * 5), "class"), path)
    return path


def _import(data_npz: Path, model: dict[str, object], out: Path, run: str | None = None, batch_size: int = 8) -> None:
    run = run or f"shapes/ext-z{model['latent_dim']}"
    import_model(run=run, data_npz=data_npz, files={"encoder": model["encoder"], "decoder": model["decoder"]},
                 batch_size=batch_size, device="cpu", out_meta=out)


# ---------------------------------------------------------------------------------------------- names and config


def test_external_names_are_runs_of_their_own_kind() -> None:
    run = Run.parse("shapes/my_net2-z8")
    assert run.external and run.kind == EXTERNAL_KIND and np.isnan(run.kl_weight) and not run.variational
    assert is_external("mynet") and not is_external("vae") and not is_external("beta_vae") and not is_external("my-net")
    assert why_not("prior_pairs", run, {"grid": {"coordinates": "pca"}}) == \
        "needs the model's prior, which an external model does not declare"
    assert why_not("lerp", run, {}) is None


def _config(schema: dict, **external: dict[str, object]) -> dict:  # noqa: ARG001
    return {"datasets": ["digits"], "external_models": copy.deepcopy(external)}


def test_config_adds_one_run_per_external_model_on_a_dataset_not_trained_on(schema: dict, models: dict) -> None:
    config = validate_config(_config(schema, mine={**models["traced"], "dataset": "lines"}), schema)
    runs = [run.name for run in iter_runs(config)]
    assert runs[-1] == "lines/mine-z3" and "lines/vae-z2" not in runs  # analysed on lines, nothing trained there
    alone = validate_config({**_config(schema, mine={**models["traced"], "dataset": "lines"}), "datasets": []}, schema)
    assert [run.name for run in iter_runs(alone)] == ["lines/mine-z3"]  # nothing to train: only the model analysed


@pytest.mark.parametrize(("entry", "needles"), [
    ({"dataset": "shapes"}, ("external_models.mine.dataset", "'shapes'", "data.sources")),
    ({"encoder": "/no/such/encoder.pt"}, ("external_models.mine.encoder", "/no/such/encoder.pt", "does not exist")),
    ({"decoder": "/"}, ("external_models.mine.decoder", "is a folder")),
    ({"latent_dim": 0}, ("external_models.mine.latent_dim",)),
    ({"extra": 1}, ("external_models.mine", "'extra'")),
])
def test_bad_external_model_entries_are_one_line_errors_naming_the_key(schema: dict, models: dict, entry: dict,
                                                                        needles: tuple[str, ...]) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        validate_config(_config(schema, mine={**models["traced"], "dataset": "digits", **entry}), schema)
    one_line(excinfo, *needles)


def test_an_external_model_named_like_a_model_kind_is_refused(schema: dict, models: dict) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        validate_config(_config(schema, vae={**models["traced"], "dataset": "digits"}), schema)
    one_line(excinfo, "external_models.vae", "model kind")
    with pytest.raises(LatentwalkError) as excinfo:
        validate_config(_config(schema, **{"my-net": {**models["traced"], "dataset": "digits"}}), schema)
    one_line(excinfo, "external_models", "my-net")


@pytest.mark.parametrize("where", ["config/examples/own_data.yaml", "README.md"])
def test_the_documented_example_gives_the_external_run(schema: dict, models: dict, tmp_path: Path, where: str) -> None:
    """The README's example and the example config, with their paths pointed at real files, validate and add the
    run shapes/mynet-z8 without training it."""
    text = (REPO / where).read_text()
    if where == "README.md":
        text = text.split("## Your data, your model")[1].split("```yaml")[1].split("```")[0]
    for name in ("a", "b"):  # two class folders
        (tmp_path / "shapes" / name).mkdir(parents=True)
    for path in ("/data/shapes", "/data/sketches.npz", "/models/encoder.pt2", "/models/decoder.pt2"):
        stem = Path(path).stem
        real = {"encoder": models["exported"]["encoder"], "decoder": models["exported"]["decoder"]}.get(stem)
        target = real or str(tmp_path / ("shapes" if stem == "shapes" else f"{stem}.npz"))
        if stem == "sketches":
            np.savez(target, images=np.zeros((8, 4, 4), np.uint8))
        text = text.replace(path, target)
    config = validate_config(yaml.safe_load(text), schema)
    runs = list(iter_runs(config))
    assert runs[-1].name == "shapes/mynet-z8" and runs[-1].external
    assert sum(run.external for run in runs) == 1 and any(run.dataset == "shapes" and not run.external for run in runs)


def test_attribute_class_pairs_apply_to_the_datasets_that_have_both_classes(schema: dict, tmp_path: Path) -> None:
    for name in ("blue", "green", "red"):
        (tmp_path / "shapes" / name).mkdir(parents=True)
    config = {"datasets": ["digits", "shapes"], "models": ["ae"], "latent_dims": [2],
              "data": {"sources": {"shapes": {"path": str(tmp_path / "shapes")}}},
              "paths": {"attribute": {"class_pairs": [[7, 1]]}}}
    runs = {run.name: run for run in iter_runs(validate_config(copy.deepcopy(config), schema))}
    assert runs["shapes/ae-z2"].classes == (0, 1, 2) and runs["digits/ae-z2"].classes == tuple(range(10))
    paths = validate_config(copy.deepcopy(config), schema)["paths"]
    assert why_not("attribute", runs["digits/ae-z2"], paths) is None
    assert why_not("attribute", runs["shapes/ae-z2"], paths) == \
        "none of paths.attribute.class_pairs is two of its classes (0..2)"
    config["paths"]["attribute"]["class_pairs"] = [[7, 1], [0, 2]]
    assert why_not("attribute", runs["shapes/ae-z2"], validate_config(copy.deepcopy(config), schema)["paths"]) is None
    config["paths"]["attribute"]["class_pairs"] = [[7, 1], [8, 12]]
    with pytest.raises(LatentwalkError) as excinfo:
        validate_config(copy.deepcopy(config), schema)
    one_line(excinfo, "class_pairs[1]", "class 12", "'digits': labels 0..9")
    config["datasets"] = ["shapes"]  # a source without the pairs' classes goes without attribute walks
    assert why_not("attribute", runs["shapes/ae-z2"], validate_config(copy.deepcopy(config), schema)["paths"]) == \
        "none of paths.attribute.class_pairs is two of its classes (0..2)"


# ---------------------------------------------------------------------------------------------- files


def test_both_formats_load_and_anything_else_is_named(models: dict, tmp_path: Path) -> None:
    assert file_format(models["traced"]["encoder"]) == "torchscript"
    assert file_format(models["exported"]["decoder"]) == "export"
    assert isinstance(load_module(models["exported"]["decoder"]), nn.Module)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(LatentwalkError) as excinfo:
        load_module(junk)
    one_line(excinfo, str(junk), "neither a TorchScript file", "exported program")
    weights = tmp_path / "weights.pt"
    torch.save(nn.Linear(2, 2).state_dict(), weights)
    with pytest.raises(LatentwalkError) as excinfo:
        load_module(weights)
    one_line(excinfo, str(weights), "neither", "torch.jit.trace")


# ---------------------------------------------------------------------------------------------- checks on the data


def test_import_records_both_files_and_the_reconstruction_error(models: dict, data_npz: Path, tmp_path: Path) -> None:
    _import(data_npz, models["traced"], tmp_path / "meta.json")
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["external"]["encoder_format"] == meta["external"]["decoder_format"] == "torchscript"
    assert meta["config"]["model"] == {"kind": "external", "latent_dim": 3, "image_shape": [3, SIDE, SIDE]}
    assert set(meta["inputs"]) == {str(data_npz), models["traced"]["encoder"], models["traced"]["decoder"]}
    assert 0 < meta["test"]["mse"] < 1 and meta["test"]["n"] == 5 and meta["test"]["reconstruction"] is None
    files = {"meta": tmp_path / "meta.json", "encoder": models["traced"]["encoder"], "decoder": models["traced"]["decoder"]}
    model, spec = load_run_model(files)
    assert spec.latent_dim == 3 and spec.image_shape == (3, SIDE, SIDE)
    with np.load(data_npz) as data:
        images = data["images"]
    mu, logvar = encode_images(model, images, batch_size=7)
    user = torch.jit.load(models["traced"]["encoder"])
    expected = user(torch.as_tensor(images).permute(0, 3, 1, 2).float() / 255)[0].detach().numpy()
    np.testing.assert_allclose(mu, expected, rtol=1e-5, atol=1e-5)  # the means of a (mu, logvar) encoder (batched)
    assert logvar is None


def test_a_changed_model_file_is_refused_by_every_job(models: dict, data_npz: Path, tmp_path: Path) -> None:
    decoder = tmp_path / "decoder.pt"
    decoder.write_bytes(Path(models["traced"]["decoder"]).read_bytes())
    model = {**models["traced"], "decoder": str(decoder)}
    _import(data_npz, model, tmp_path / "meta.json")
    save_traced(mlp_decoder(CHANNELS, SIDE, 3), torch.zeros(2, 3), decoder, seed=9)  # retrained elsewhere
    with pytest.raises(LatentwalkError) as excinfo:
        load_run_model({"meta": tmp_path / "meta.json", "encoder": model["encoder"], "decoder": decoder})
    one_line(excinfo, str(decoder), "is not the decoder this run was imported with", "import_model")


def test_an_encoder_of_another_width_is_named(models: dict, data_npz: Path, tmp_path: Path) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        _import(data_npz, {**models["traced"], "latent_dim": 5}, tmp_path / "meta.json", run="shapes/ext-z5")
    one_line(excinfo, models["traced"]["encoder"], "(8, 3)", "latent_dim", "(8, 5)")
    assert not (tmp_path / "meta.json").exists()


def test_a_decoder_of_another_image_shape_is_named(data_npz: Path, tmp_path: Path) -> None:
    model = {"encoder": str(save_traced(PairEncoder(CHANNELS, SIDE, 3), torch.rand(2, 3, SIDE, SIDE), tmp_path / "e.pt")),
             "decoder": str(save_traced(mlp_decoder(1, SIDE, 3), torch.zeros(2, 3), tmp_path / "grey.pt")),
             "latent_dim": 3}
    with pytest.raises(LatentwalkError) as excinfo:
        _import(data_npz, model, tmp_path / "meta.json")
    one_line(excinfo, "grey.pt", "(8, 1, 8, 8)", "(8, 3, 8, 8)", "channels x size x size = 3 x 8 x 8")


def test_nan_names_the_file_and_the_first_bad_batch(data_npz: Path, tmp_path: Path) -> None:
    class NanAfter(nn.Module):  # NaN for images whose first pixel is bright (not in every batch)
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            z = x.flatten(1)[:, :3]
            return torch.where(x[:, :1, 0, 0] > 0.9, torch.full_like(z, float("nan")), z)

    with np.load(data_npz) as data:
        bright = np.flatnonzero(data["images"][:, 0, 0, 0] / 255 > 0.9)
    model = {"encoder": str(save_traced(NanAfter(), torch.rand(2, 3, SIDE, SIDE), tmp_path / "nan.pt")),
             "decoder": str(save_traced(mlp_decoder(CHANNELS, SIDE, 3), torch.zeros(2, 3), tmp_path / "d.pt")),
             "latent_dim": 3}
    with pytest.raises(LatentwalkError) as excinfo:
        _import(data_npz, model, tmp_path / "meta.json", batch_size=4)
    first = int(bright[0]) // 4
    one_line(excinfo, "nan.pt", "NaN", f"batch {first}", f"rows {first * 4}..{first * 4 + 3}")


def test_a_decoder_of_logits_is_refused(data_npz: Path, tmp_path: Path) -> None:
    logits = nn.Sequential(nn.Linear(3, CHANNELS * SIDE * SIDE), nn.Unflatten(1, (CHANNELS, SIDE, SIDE)))
    model = {"encoder": str(save_traced(PairEncoder(CHANNELS, SIDE, 3), torch.rand(2, 3, SIDE, SIDE), tmp_path / "e.pt")),
             "decoder": str(save_traced(logits, torch.zeros(2, 3), tmp_path / "logits.pt")), "latent_dim": 3}
    with pytest.raises(LatentwalkError) as excinfo:
        _import(data_npz, model, tmp_path / "meta.json")
    one_line(excinfo, "logits.pt", "[0, 1]", "sigmoid")


def test_an_export_with_a_fixed_batch_size_is_named(models: dict, data_npz: Path, tmp_path: Path) -> None:
    fixed = save_exported(BlendDecoder(CHANNELS, SIDE, 3), torch.zeros(4, 3), tmp_path / "fixed.pt2", dynamic=False)
    with pytest.raises(LatentwalkError) as excinfo:
        _import(data_npz, {**models["exported"], "decoder": str(fixed)}, tmp_path / "meta.json")
    one_line(excinfo, "fixed.pt2", "batch")


# ---------------------------------------------------------------------------------------------- the explorer page


@pytest.mark.parametrize("save", [save_traced, save_exported])
def test_a_decoder_of_supported_layers_runs_in_the_page(save: object, tmp_path: Path) -> None:
    path = save(conv_decoder(CHANNELS, SIDE, 4), torch.zeros(2, 4), tmp_path / "decoder.bin", 5)  # type: ignore[operator]
    decoder = load_module(path)
    layers = external_layers(decoder, 4)
    assert [layer["op"] for layer in layers] == ["linear", "relu", "reshape", "convT", "leaky", "upsample2", "conv", "sigmoid"]
    z = np.random.default_rng(1).standard_normal((3, 4))
    with torch.no_grad():
        expected = decoder(torch.as_tensor(z, dtype=torch.float32)).numpy().reshape(3, -1)
    np.testing.assert_allclose(np.stack([decode_layers(layers, row) for row in z]), expected, atol=2e-6, rtol=0)


@pytest.mark.parametrize("save", [save_traced, save_exported])
def test_a_decoder_of_other_operations_is_named_for_the_page(save: object, tmp_path: Path) -> None:
    path = save(BlendDecoder(CHANNELS, SIDE, 2), torch.zeros(2, 2), tmp_path / "decoder.bin")  # type: ignore[operator]
    with pytest.raises(Unsupported, match="repeat|tanh|view|size"):
        external_layers(load_module(path), 2)


def test_the_external_model_checks_shapes_on_every_call(models: dict) -> None:
    spec = ExternalSpec(3, (CHANNELS, SIDE, SIDE))
    model = ExternalModel(load_module(models["traced"]["encoder"]), load_module(models["traced"]["decoder"]), spec,
                          {"encoder": models["traced"]["encoder"], "decoder": models["traced"]["decoder"]})
    assert model.decode(torch.zeros(5, 3)).shape == (5, CHANNELS, SIDE, SIDE)
    with pytest.raises(LatentwalkError) as excinfo:
        model.decode(torch.zeros(5, 4))
    one_line(excinfo, models["traced"]["decoder"], "fails on input (5, 4)")


def test_labels_are_shown_by_name_where_the_data_names_them() -> None:
    from latentwalk.core.latents import label_text

    assert label_text(2, ["blue", "green", "red"]) == "red" and label_text(2.0) == "2"
    assert label_text(5, ["blue"]) == "5" and label_text(np.pi / 2, ["blue"]) == "90°"
