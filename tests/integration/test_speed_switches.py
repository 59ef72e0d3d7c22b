"""bf16 autocast and torch.compile as a user switches them on, on CPU."""

import logging
import math

import lightning as L
import pytest
import torch

from anomaly_bench.engine.callbacks import Speedups
from anomaly_bench.engine.run import train
from anomaly_bench.engine.runtime import instantiate
from tests.conftest import MODEL_IDS, quick_overrides
from tests.unit.models.helpers import quiet_trainer

# Every method under bf16 autocast and torch.compile.
pytestmark = pytest.mark.slow


def build(cfg) -> tuple[L.LightningModule, L.LightningDataModule]:
    data = instantiate(cfg.data)
    model = instantiate(cfg.model, image_size=data.image_size, in_channels=data.num_channels)
    return model, data


def train_losses(trainer: L.Trainer) -> dict[str, float]:
    return {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("train/")}


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_bf16_autocast_trains_every_method_with_finite_losses_and_full_precision_scores(
    make_config, model_id
):
    cfg = make_config("data=synthetic", f"model={model_id}", *quick_overrides(model_id))
    model, data = build(cfg)
    trainer = quiet_trainer(precision="bf16-mixed", fast_dev_run=2)
    trainer.fit(model, datamodule=data)
    losses = train_losses(trainer)
    assert all(math.isfinite(v) for v in losses.values()), losses
    assert losses or model_id == "iforest"  # iForest has no loss: it fits once
    batch = data.test_set.batch(slice(0, 16))
    with torch.autocast("cpu", dtype=torch.bfloat16), torch.no_grad():
        scores = model.eval().test_step(batch, 0)["scores"]
    assert scores.dtype in (torch.float32, torch.float64) and torch.isfinite(scores).all()


@pytest.mark.parametrize(
    ("model_id", "extra"), [("ganomaly", []), ("anogan", ["model.search.steps=2"])]
)
def test_compiled_networks_train_and_score_as_a_user_runs_them(make_config, model_id, extra):
    """The aot_eager backend traces every net through Dynamo and AOTAutograd (what inductor
    compiles) without inductor's minutes of C++ code generation on CPU."""
    cfg = make_config(
        "data=synthetic",
        f"model={model_id}",
        "trainer.max_epochs=1",
        "trainer.enable_progress_bar=false",
        "callbacks.speedups.compile=true",
        "callbacks.speedups.compile_backend=aot_eager",
        "callbacks.speedups.channels_last=true",
        *quick_overrides(model_id),
    )
    row = train(cfg)
    assert row["status"] == "ok" and 0.0 <= row["auroc"] <= 1.0
    assert row["config"]["callbacks"]["speedups"]["compile"] is True


def test_compile_keeps_parameter_names_so_checkpoints_load_either_way(make_config):
    model, _ = build(make_config("data=synthetic", "model=ganomaly"))
    before = set(model.state_dict())
    speedups = Speedups(compile=True, compile_backend="aot_eager")
    speedups.setup(quiet_trainer(), model, "fit")
    assert speedups.compiled and set(model.state_dict()) == before


def test_channels_last_lays_every_conv_weight_out_nhwc(make_config):
    model, _ = build(make_config("data=synthetic", "model=ganomaly"))
    Speedups(channels_last=True).setup(quiet_trainer(), model, "fit")
    convs = [m.weight for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(w.is_contiguous(memory_format=torch.channels_last) for w in convs)
    assert not all(w.is_contiguous() for w in convs)


def test_where_compile_cannot_run_the_run_says_why_and_trains_eagerly(
    make_config, monkeypatch, caplog
):
    def no_compiler(*args, **kwargs):
        raise RuntimeError("no C++ compiler found")

    monkeypatch.setattr(torch, "compile", no_compiler)
    model, data = build(make_config("data=synthetic", "model=ganomaly"))
    speedups = Speedups(compile=True)
    with caplog.at_level(logging.WARNING):
        quiet_trainer(fast_dev_run=1, callbacks=[speedups]).fit(model, datamodule=data)
    assert not speedups.compiled
    assert "cannot run on cpu here (RuntimeError: no C++ compiler found)" in caplog.text


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"compile_backend": "fast"}, "compile_backend='fast' is not allowed; allowed: .*inductor"),
        ({"compile_mode": "turbo"}, "compile_mode='turbo' is not allowed; allowed: .*max-autotune"),
    ],
)
def test_bad_compile_settings_name_the_value_and_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Speedups(compile=True, **kwargs)


def test_both_input_paths_train_the_same_network_for_the_same_seed(make_config):
    trained, initial = [], []
    for path in ("device", "dataloader"):
        cfg = make_config("data=synthetic", "model=ganomaly", f"data.input_path={path}")
        L.seed_everything(0)
        model, data = build(cfg)
        initial.append({k: v.clone() for k, v in model.state_dict().items()})
        quiet_trainer(max_epochs=2, limit_val_batches=0).fit(model, datamodule=data)
        trained.append(model.state_dict())
    device, ordinary = trained
    assert all(torch.allclose(device[k].float(), ordinary[k].float()) for k in device)
    key = "generator.encoder.features.0.weight"
    assert torch.equal(initial[0][key], initial[1][key])
    assert not torch.allclose(device[key], initial[0][key])


@pytest.mark.parametrize("model_id", ["ganomaly", "mem_ganomaly"])
def test_compiled_training_is_eager_training(make_config, model_id):
    """compile keeps a run's key (it lays the arithmetic out, it does not change it), so a
    compiled run must train the weights eager training trains, and only those: Mem_GANomaly
    fixes E's and D's weights for part of each step (`weights_fixed`), which a compiled graph
    traced once could miss. aot_eager runs the traced graphs as they are, so any difference
    beyond rounding is the compile path's."""
    trained, initial = [], None
    for compile_nets in (False, True):
        L.seed_everything(0)
        model, data = build(make_config("data=synthetic", f"model={model_id}"))
        initial = initial or {k: v.clone() for k, v in model.state_dict().items()}
        speedups = Speedups(compile=compile_nets, compile_backend="aot_eager")
        trainer = quiet_trainer(max_epochs=2, limit_val_batches=0, callbacks=[speedups])
        trainer.fit(model, datamodule=data)
        assert speedups.compiled is compile_nets
        trained.append({k: v.detach().clone() for k, v in model.state_dict().items()})
    eager, compiled = trained
    for key, value in eager.items():
        assert torch.allclose(compiled[key].float(), value.float(), rtol=1e-4, atol=1e-6), key
    moved = [k for k in eager if not torch.allclose(eager[k].float(), initial[k].float())]
    assert any(k.startswith("generator.reencoder.") for k in moved)
    assert any(k.startswith("discriminator.") for k in moved)
