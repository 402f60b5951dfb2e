"""Tests for latentwalk.model.training (the trainer and rule train): convergence, determinism, one code path for
every model, I/O, failure modes."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from _helpers import one_line as _one_line

from latentwalk.core.io import LatentwalkError, sha256_file
from latentwalk.data.dataset import Dataset, save_dataset
from latentwalk.model import training
from latentwalk.model.checkpoint import load_model, save_state_dict
from latentwalk.model.networks import resolve_device, use_threads
from latentwalk.model.networks import ModelSpec
from latentwalk.model.training import HISTORY_COLUMNS, TrainConfig, train_model

KINDS = ("ae", "vae", "beta_vae", "acai")


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    """200 real 8x8 digits in [0, 1] (structure to learn, unlike noise)."""
    from sklearn.datasets import load_digits

    return (load_digits().images[:200, :, :, None] / 16.0).astype(np.float32)


@pytest.fixture(scope="module")
def noise_images() -> np.ndarray:
    return np.random.default_rng(0).random((64, 8, 8, 1)).astype(np.float32)


def _spec(kind: str = "vae", dim: int = 2, **kw) -> ModelSpec:
    kw.setdefault("hidden", (32,))
    return ModelSpec(kind=kind, latent_dim=dim, image_shape=(8, 8), **kw)


def _cfg(epochs: int = 3, **kw) -> TrainConfig:
    kw.setdefault("batch_size", 32)
    kw.setdefault("device", "cpu")
    return TrainConfig(epochs=epochs, **kw)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- training


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_loss_decreases(digits: np.ndarray, kind: str, likelihood: str) -> None:
    model, history = train_model(_spec(kind, likelihood=likelihood), _cfg(5, learning_rate=3e-3), digits)
    assert [row["epoch"] for row in history] == [1, 2, 3, 4, 5]
    assert history[-1]["loss"] < history[0]["loss"]
    assert history[-1]["reconstruction"] < history[0]["reconstruction"]
    assert not model.training
    assert all(p.device.type == "cpu" for p in model.parameters())


@pytest.mark.parametrize("kind", KINDS)
def test_history_rows(noise_images: np.ndarray, kind: str) -> None:
    spec = _spec(kind, beta=3.0)
    _, history = train_model(spec, _cfg(3), noise_images)
    assert HISTORY_COLUMNS == ("epoch", "loss", "reconstruction", "kl", "seconds")
    assert len(history) == 3
    for i, row in enumerate(history, start=1):
        assert tuple(row) == training.history_columns(spec)
        assert row["epoch"] == i
        assert row["seconds"] >= 0
        assert all(math.isfinite(row[k]) for k in row)
        if kind == "acai":  # loss = reconstruction + lambda * pixels * (critic output)^2 on interpolants
            assert tuple(row)[-2:] == ("adversarial", "critic") and row["kl"] == 0.0
            assert row["loss"] == pytest.approx(row["reconstruction"] + 0.5 * 64 * row["adversarial"], rel=1e-5)
            continue
        # per-example means: loss = reconstruction + kl_weight * kl (no warm-up)
        assert row["loss"] == pytest.approx(row["reconstruction"] + spec.kl_weight * row["kl"], rel=1e-5)
        if kind in ("ae", "acai"):
            assert row["kl"] == 0.0
            assert row["loss"] == row["reconstruction"]
        else:
            assert row["kl"] > 0.0


def test_acai_critic_learns_and_only_the_autoencoder_follows_its_loss(digits: np.ndarray) -> None:
    """ACAI on real digits: the critic's loss falls; each player's loss reaches only its own weights."""
    from latentwalk.model.networks import acai_losses, build_model

    spec = _spec("acai", dim=4)
    model, history = train_model(spec, _cfg(12, learning_rate=2e-3, seed=1), digits)
    critic = [row["critic"] for row in history]
    # a critic that always answers 0 scores E[alpha^2] = 1/12 for alpha uniform on [0, 1/2]: it learns to do better
    assert critic[-1] < 0.7 * critic[0] and np.mean(critic[-3:]) < 0.75 / 12, critic
    assert history[-1]["reconstruction"] < history[0]["reconstruction"]
    assert {name.split(".")[0] for name, _ in model.named_parameters()} == {"encoder", "critic", "decoder"}

    torch.manual_seed(0)
    fresh = build_model(spec)
    x = torch.as_tensor(digits[:16]).permute(0, 3, 1, 2)
    alpha = torch.full((16, 1), 0.25)
    loss, recon, adversarial, critic_loss = acai_losses(fresh, x, alpha)
    critic_loss.backward()
    assert all(p.grad is None for n, p in fresh.named_parameters() if not n.startswith("critic."))
    assert all(p.grad is not None for p in fresh.critic.parameters())
    # the critic's target: alpha on decoded mixes, 0 on gamma-blends of data and reconstructions
    with torch.no_grad():
        mu, _ = fresh.encode(x)
        mix = fresh.decode(0.25 * mu + 0.75 * mu.flip(0))
        blend = 0.2 * x + 0.8 * fresh.decode(mu)
        expected = (fresh.critic(mix) - 0.25).square().mean() + fresh.critic(blend).square().mean()
    assert critic_loss.item() == pytest.approx(expected.item(), rel=1e-5)
    assert loss.item() == pytest.approx(recon.item() + 0.5 * 64 * adversarial.item(), rel=1e-6)


def test_acai_training_is_deterministic_and_other_kinds_are_unchanged(tmp_path: Path, noise_images: np.ndarray) -> None:
    a = _train_and_save(tmp_path, "a.pt", _spec("acai"), _cfg(2, seed=5), noise_images)
    b = _train_and_save(tmp_path, "b.pt", _spec("acai"), _cfg(2, seed=5), noise_images)
    assert a.read_bytes() == b.read_bytes()
    # an autoencoder's layers and initial weights do not depend on the critic existing for other kinds
    from latentwalk.model.networks import build_model

    torch.manual_seed(0)
    ae = build_model(_spec("ae")).state_dict()
    assert not any(k.startswith("critic.") for k in ae)
    torch.manual_seed(0)
    acai = build_model(_spec("acai")).state_dict()
    assert all(torch.equal(acai[k], v) for k, v in ae.items() if k.startswith("encoder."))


def test_wrong_image_shape_raises(noise_images: np.ndarray) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        train_model(ModelSpec("ae", 2, (4, 16), hidden=(8,)), _cfg(1), noise_images)
    _one_line(excinfo, "(64, 8, 8, 1)")
    with pytest.raises(LatentwalkError):
        train_model(_spec("ae"), _cfg(1), noise_images.reshape(64, 64))
    with pytest.raises(LatentwalkError, match=r"\(1, 8, 8\)"):  # RGB images for a grey model
        train_model(_spec("ae"), _cfg(1), np.repeat(noise_images, 3, axis=3))


def _train_and_save(tmp_path: Path, name: str, spec: ModelSpec, cfg: TrainConfig, images: np.ndarray) -> Path:
    model, _ = train_model(spec, cfg, images)
    path = tmp_path / name
    save_state_dict(model, path)
    return path


@pytest.mark.parametrize("kind", ["ae", "vae"])
def test_same_config_gives_identical_weight_bytes(tmp_path: Path, noise_images: np.ndarray, kind: str) -> None:
    spec = _spec(kind)
    a = _train_and_save(tmp_path, "a.pt", spec, _cfg(2, seed=7), noise_images)
    b = _train_and_save(tmp_path, "b.pt", spec, _cfg(2, seed=7), noise_images)
    c = _train_and_save(tmp_path, "c.pt", spec, _cfg(2, seed=8), noise_images)
    assert _sha(a) == _sha(b)
    assert a.read_bytes() == b.read_bytes()
    assert _sha(a) != _sha(c)
    # no temporary files left behind by the atomic write
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt", "b.pt", "c.pt"]


def test_same_config_gives_identical_history(noise_images: np.ndarray) -> None:
    _, h1 = train_model(_spec("vae"), _cfg(2, seed=3), noise_images)
    _, h2 = train_model(_spec("vae"), _cfg(2, seed=3), noise_images)
    strip = lambda h: [{k: v for k, v in row.items() if k != "seconds"} for row in h]  # noqa: E731
    assert strip(h1) == strip(h2)


def test_save_state_dict_is_state_dict_only(tmp_path: Path, noise_images: np.ndarray) -> None:
    model, _ = train_model(_spec("vae"), _cfg(1), noise_images)
    path = tmp_path / "m.pt"
    save_state_dict(model, path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    assert set(state) == set(model.state_dict())
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


@pytest.mark.parametrize("kind", KINDS)
def test_load_model_round_trips_outputs_exactly(tmp_path: Path, noise_images: np.ndarray, kind: str) -> None:
    spec = _spec(kind)
    model, _ = train_model(spec, _cfg(2), noise_images)
    path = tmp_path / "model.pt"
    save_state_dict(model, path)
    loaded = load_model(path, spec)
    assert not loaded.training
    x = torch.as_tensor(noise_images[:10]).permute(0, 3, 1, 2)
    z = torch.randn(10, 2)
    with torch.no_grad():
        mu_a, lv_a = model.encode(x)
        mu_b, lv_b = loaded.encode(x)
        assert torch.equal(mu_a, mu_b)
        if kind in ("ae", "acai"):
            assert lv_a is None and lv_b is None
        else:
            assert torch.equal(lv_a, lv_b)
        assert torch.equal(model.decode(z), loaded.decode(z))


def test_load_model_uses_weights_only(tmp_path: Path, noise_images: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = train_model(_spec("ae"), _cfg(1), noise_images)
    path = tmp_path / "model.pt"
    save_state_dict(model, path)
    seen: list[dict] = []
    real_load = torch.load

    def spy(*args, **kwargs):
        seen.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_model(path, _spec("ae"))
    assert seen and all(kw.get("weights_only") is True for kw in seen)


@pytest.mark.parametrize(
    "other",
    [_spec("vae", dim=3), _spec("ae", dim=2), _spec("vae", dim=2, hidden=(16,))],
    ids=["latent-dim", "kind", "hidden"],
)
def test_load_model_mismatch_raises_one_line(tmp_path: Path, noise_images: np.ndarray, other: ModelSpec) -> None:
    model, _ = train_model(_spec("vae", dim=2), _cfg(1), noise_images)
    path = tmp_path / "model.pt"
    save_state_dict(model, path)
    with pytest.raises(LatentwalkError) as excinfo:
        load_model(path, other)
    _one_line(excinfo, str(path), f"z={other.latent_dim}")


def test_load_model_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.pt"
    with pytest.raises(LatentwalkError) as excinfo:
        load_model(path, _spec("vae"))
    _one_line(excinfo, str(path))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"PK\x03\x04 truncated zip", id="truncated-zip"),
        pytest.param(b"", id="empty"),
        pytest.param(b"not a torch file at all", id="garbage"),
    ],
)
def test_load_model_corrupt_file_raises_latentwalk_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.pt"
    path.write_bytes(content)
    with pytest.raises(LatentwalkError) as excinfo:
        load_model(path, _spec("vae"))
    _one_line(excinfo, str(path))


# --------------------------------------------------------------------------- non-finite


@pytest.mark.parametrize("kind", ["ae", "vae"])
@pytest.mark.parametrize("likelihood", ["bernoulli", "gaussian"])
def test_nan_images_raise(noise_images: np.ndarray, kind: str, likelihood: str) -> None:
    images = noise_images.copy()
    images[3, 2, 5] = np.nan
    with pytest.raises(LatentwalkError) as excinfo:
        train_model(_spec(kind, likelihood=likelihood), _cfg(2), images)
    _one_line(excinfo, "non-finite", "epoch 1")


def test_inf_images_raise(noise_images: np.ndarray) -> None:
    images = noise_images.copy()
    images[0, 0, 0] = np.inf
    with pytest.raises(LatentwalkError) as excinfo:
        train_model(_spec("vae"), _cfg(2), images)
    _one_line(excinfo, "non-finite")


def test_absurd_learning_rate_raises(noise_images: np.ndarray) -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        train_model(_spec("vae"), _cfg(3, learning_rate=1e30), noise_images)
    _one_line(excinfo, "non-finite", "learning_rate")


def _tiny_dataset(path: Path, images: np.ndarray, n_test: int = 16) -> None:
    n = images.shape[0]
    split = np.array(["train"] * (n - n_test) + ["test"] * n_test)
    labels = np.arange(n, dtype=np.int64) % 10
    save_dataset(Dataset(images=images, labels=labels, split=split, label_kind="class"), path)


MODEL_PARAMS = {"architecture": "mlp", "likelihood": "bernoulli", "hidden": [16]}


def _train_params(lr: float = 1e-3, epochs: int = 2, warmup: int = 0) -> dict:
    return {"epochs": epochs, "batch_size": 32, "learning_rate": lr, "threads": 1, "kl_warmup_epochs": warmup}


def _stage_train(tmp_path: Path, data: Path, out: Path, kind: str = "vae", dim: int = 2, **tp) -> None:
    training.train(
        data_npz=data,
        run=f"tiny/{kind}-z{dim}",
        model_params=MODEL_PARAMS,
        train_params=_train_params(**tp),
        seed=11,
        device="cpu",
        out={"model": out / "model.pt", "history": out / "train_log.csv", "meta": out / "meta.json"},
    )


@pytest.mark.parametrize("case", ["nan-images", "huge-lr"])
def test_stage_train_failure_leaves_no_outputs(tmp_path: Path, noise_images: np.ndarray, case: str) -> None:
    images = noise_images.copy()
    lr = 1e-3
    if case == "nan-images":
        images[1, 1, 1] = np.nan  # a train-split image
    else:
        lr = 1e30
    data = tmp_path / "tiny.npz"
    _tiny_dataset(data, images)
    out = tmp_path / "run"
    out.mkdir()
    with pytest.raises(LatentwalkError, match="non-finite"):
        _stage_train(tmp_path, data, out, lr=lr)
    for name in ("model.pt", "meta.json", "train_log.csv"):
        assert not (out / name).exists(), name
    assert list(out.iterdir()) == []  # no temporary leftovers either


def test_stage_train_writes_consistent_outputs(tmp_path: Path, noise_images: np.ndarray) -> None:
    data = tmp_path / "tiny.npz"
    _tiny_dataset(data, noise_images)
    out = tmp_path / "run"
    _stage_train(tmp_path, data, out, kind="beta_vae-b2.5", dim=3, epochs=3)
    assert sorted(p.name for p in out.iterdir()) == ["meta.json", "model.pt", "train_log.csv"]
    log = pd.read_csv(out / "train_log.csv")
    assert list(log.columns) == [c for c in HISTORY_COLUMNS if c != "seconds"]  # timings stay in the job log
    assert log["epoch"].tolist() == [1, 2, 3]
    meta = json.loads((out / "meta.json").read_text())
    assert meta["model_sha256"] == sha256_file(out / "model.pt")
    assert meta["run"] == "tiny/beta_vae-b2.5-z3"
    assert meta["n_train"] == 48 and meta["n_test"] == 16
    assert meta["seed"] == 11
    spec = ModelSpec.from_dict(meta["config"]["model"])
    assert spec == ModelSpec("beta_vae", 3, (8, 8), hidden=(16,), likelihood="bernoulli", beta=2.5)  # the name's beta
    assert meta["final"]["loss"] == pytest.approx(log["loss"].iloc[-1])
    # the weights load back into the stored spec
    load_model(out / "model.pt", spec)
    # a second identical run gives identical weight bytes
    out2 = tmp_path / "run2"
    _stage_train(tmp_path, data, out2, kind="beta_vae-b2.5", dim=3, epochs=3)
    assert sha256_file(out2 / "model.pt") == meta["model_sha256"]


def test_stage_train_uses_only_train_split(tmp_path: Path, noise_images: np.ndarray) -> None:
    """The stage trains on the train rows only: same weights as training on them directly."""
    data = tmp_path / "tiny.npz"
    _tiny_dataset(data, noise_images)  # the last 16 rows are the test split
    _stage_train(tmp_path, data, tmp_path / "run")
    spec = ModelSpec(kind="vae", latent_dim=2, image_shape=(8, 8), hidden=(16,))
    direct, _ = train_model(spec, TrainConfig(epochs=2, batch_size=32, learning_rate=1e-3, seed=11, device="cpu"), noise_images[:-16])
    save_state_dict(direct, tmp_path / "direct.pt")
    assert _sha(tmp_path / "run" / "model.pt") == _sha(tmp_path / "direct.pt")
    meta = json.loads((tmp_path / "run" / "meta.json").read_text())
    assert meta["n_train"] == 48 and meta["n_test"] == 16 and meta["test"]["n"] == 16


def test_stage_train_nan_in_test_split_fails_cleanly(tmp_path: Path, noise_images: np.ndarray) -> None:
    """A NaN in a held-out image stops the job with a clear error and leaves no artifact."""
    images = noise_images.copy()
    images[-1, 0, 0] = np.nan
    data = tmp_path / "tiny.npz"
    _tiny_dataset(data, images)
    with pytest.raises(LatentwalkError) as excinfo:
        _stage_train(tmp_path, data, tmp_path / "run")
    _one_line(excinfo, "non-finite held-out")
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())


# --------------------------------------------------------------------------- device


def test_resolve_device_cuda_without_cuda_raises() -> None:
    if torch.cuda.is_available():
        pytest.skip("CUDA is available here")
    with pytest.raises(LatentwalkError) as excinfo:
        resolve_device("cuda")
    _one_line(excinfo, "cuda")


def test_resolve_device_auto_and_cpu() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto").type == expected


def test_use_threads_sets_torchs_threads_and_refuses_none() -> None:
    before = torch.get_num_threads()
    try:
        use_threads(1)
        assert torch.get_num_threads() == 1
        with pytest.raises(LatentwalkError) as excinfo:
            use_threads(0)
        _one_line(excinfo, "threads must be >= 1, got 0")
    finally:
        torch.set_num_threads(before)


def test_resolve_device_unknown_raises() -> None:
    with pytest.raises(LatentwalkError) as excinfo:
        resolve_device("tpu")
    _one_line(excinfo, "'tpu'", "auto", "cpu", "cuda")


# --------------------------------------------------------------------------- KL warm-up


def _weights(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in model.state_dict().items()}


def _same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_warmup_changes_vae_result(noise_images: np.ndarray) -> None:
    m0, h0 = train_model(_spec("vae"), _cfg(3, kl_warmup_epochs=0), noise_images)
    m3, h3 = train_model(_spec("vae"), _cfg(3, kl_warmup_epochs=3), noise_images)
    assert not _same(_weights(m0), _weights(m3))
    assert h0[0]["loss"] != h3[0]["loss"]


def test_warmup_does_not_affect_ae(noise_images: np.ndarray) -> None:
    """ae has KL weight 0, so the warm-up schedule must not change anything."""
    m0, _ = train_model(_spec("ae"), _cfg(3, kl_warmup_epochs=0), noise_images)
    m3, _ = train_model(_spec("ae"), _cfg(3, kl_warmup_epochs=3), noise_images)
    assert _same(_weights(m0), _weights(m3))


@pytest.mark.parametrize(("warmup", "expected"), [(0, [1.0] * 5), (4, [0.0, 0.25, 0.5, 0.75, 1.0]), (2, [0.0, 0.5, 1.0, 1.0, 1.0])])
def test_warmup_schedule_via_spy(
    noise_images: np.ndarray, monkeypatch: pytest.MonkeyPatch, warmup: int, expected: list[float]
) -> None:
    scales: list[tuple[int, float]] = []
    real = training.loss_terms  # the loss every training step differentiates
    epoch = {"n": 0}

    def spy(model, x, noise, kl_scale=1.0, generator=None):
        scales.append((epoch["n"], kl_scale))
        return real(model, x, noise, kl_scale, generator)

    def log(message: str) -> None:
        if message.startswith("training"):
            epoch["n"] = 1
        elif message.startswith("epoch"):
            epoch["n"] += 1

    monkeypatch.setattr(training, "loss_terms", spy)
    train_model(_spec("vae"), _cfg(5, kl_warmup_epochs=warmup), noise_images, log=log)
    per_epoch = {}
    for e, s in scales:
        per_epoch.setdefault(e, set()).add(s)
    assert sorted(per_epoch) == [1, 2, 3, 4, 5]
    assert [per_epoch[e] for e in range(1, 6)] == [{s} for s in expected]


def test_warmup_visible_in_history(noise_images: np.ndarray) -> None:
    """(loss - reconstruction) / kl recovers kl_scale * beta per epoch."""
    spec = _spec("beta_vae", beta=2.0)
    _, history = train_model(spec, _cfg(5, kl_warmup_epochs=4), noise_images)
    ratios = [(r["loss"] - r["reconstruction"]) / r["kl"] for r in history]
    assert ratios == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0], rel=1e-3, abs=1e-6)


# --------------------------------------------------------------------------- one code path


def _plain_loop(spec: ModelSpec, cfg: TrainConfig, images: np.ndarray) -> torch.nn.Module:
    """The trainer written out as the textbook autograd loop: seeded model and generator, a fresh permutation per
    epoch, noise drawn per batch, torch's Adam, subnormals flushed."""
    from latentwalk.model.networks import build_model, loss_terms

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(cfg.threads)
    generator = torch.Generator().manual_seed(cfg.seed)
    model = build_model(spec)
    optimiser = torch.optim.Adam(model.parameters(), lr=cfg.learning_rate, fused=True)
    data = torch.as_tensor(images)
    torch.set_flush_denormal(True)
    try:
        for epoch in range(1, cfg.epochs + 1):
            warmup = min(1.0, (epoch - 1) / cfg.kl_warmup_epochs) if cfg.kl_warmup_epochs > 0 else 1.0
            order = torch.randperm(len(data), generator=generator)
            for first in range(0, len(data), cfg.batch_size):
                batch = data[order[first : first + cfg.batch_size]].permute(0, 3, 1, 2)
                noise = torch.randn((len(batch), spec.latent_dim), generator=generator) if spec.variational else None
                loss, _, _ = loss_terms(model, batch, noise, warmup)
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
    finally:
        torch.set_flush_denormal(False)
    return model


@pytest.mark.parametrize("spec", [
    ModelSpec("vae", 2, (8, 8), hidden=(16,)),
    ModelSpec("ae", 3, (8, 8), hidden=(12, 8), likelihood="gaussian"),
    ModelSpec("beta_vae", 2, (8, 8), architecture="conv", channels=(2, 3), conv_hidden=8, beta=3.0),
    ModelSpec("vae", 4, (8, 8), architecture="acai_conv", depth=2),
], ids=["mlp-vae", "mlp-ae-gaussian", "conv-beta_vae", "acai_conv-vae"])
def test_every_model_trains_through_one_autograd_loop(noise_images: np.ndarray, spec: ModelSpec) -> None:
    """The trainer is the plain autograd loop with torch's Adam for every architecture: its weights are the loop's,
    bit for bit (the same computation run twice), and its description says so."""
    cfg = TrainConfig(epochs=2, batch_size=16, learning_rate=2e-3, seed=5, device="cpu", kl_warmup_epochs=1)
    trained, history = train_model(spec, cfg, noise_images)
    plain = _plain_loop(spec, cfg, noise_images)
    for (name, ours), (_, theirs) in zip(trained.state_dict().items(), plain.state_dict().items()):
        assert torch.equal(ours, theirs), name
    assert len(history) == 2 and math.isfinite(history[-1]["loss"])
    assert training.trainer_description(spec, torch.device("cpu")) == "autograd, torch Adam (fused)"
    assert training.trainer_description(ModelSpec("acai", 2, (8, 8), hidden=(16,)), torch.device("cpu")) == \
        "autograd, two players (autoencoder and critic), torch Adam (fused)"


def test_training_flushes_subnormals_and_restores_the_default_after(noise_images: np.ndarray) -> None:
    """While a model trains, a subnormal float32 multiplies as zero (FTZ/DAZ: Adam's averages of tiny gradients
    decay into that range and slow every step tenfold); before and after, torch's default holds."""
    from latentwalk.model.training import flush_denormals

    with flush_denormals() as supported:
        pass
    if not supported:
        pytest.skip("this CPU cannot flush subnormals")
    tiny = torch.tensor([1e-39], dtype=torch.float32)
    assert float(tiny * 1.0) > 0.0
    seen: list[float] = []
    train_model(_spec("ae"), _cfg(2), noise_images, on_epoch=lambda epoch, model: seen.append(float(tiny * 1.0)))
    assert seen == [0.0, 0.0]
    assert float(tiny * 1.0) > 0.0
