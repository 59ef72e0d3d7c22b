"""One contract, every model: parametrised over conf/model/*.yaml, no per-model table.

A model added as one file and one yaml is covered here with no other edit. Tiny sizes come from
what the model declares: every constructor parameter it annotates `PositiveInt` (a width, a latent
size, a memory) is capped at TINY, a latent search takes two steps, and a two-stage method (its
yaml's `method.first_stage`) trains one epoch a stage; never from the model's name.
"""

import copy

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import get_class
from lightning.pytorch.loggers import Logger
from omegaconf import DictConfig, open_dict

from anomaly_bench.data import OneClassDataModule
from anomaly_bench.engine.onnx_export import export_onnx
from anomaly_bench.engine.runtime import instantiate
from anomaly_bench.models.components.dcgan import IMAGE_SIZES
from anomaly_bench.settings.checks import (
    NODE_SETTINGS,
    check_model_settings,
    declared_settings,
    positive_int_settings,
)
from anomaly_bench.settings.method_facts import first_stage_key
from tests.conftest import CONF_DIR, MODEL_IDS
from tests.unit.models.helpers import SIZE, quiet_trainer

TINY = 8
TINY_NODES = {("search", "steps"): 2}


def sizes(model: DictConfig) -> tuple[str, ...]:
    """The settings of the model's yaml that its class (or the scheme it passes settings to)
    declares `PositiveInt`."""
    return tuple(key for key in positive_int_settings(get_class(model._target_)) if key in model)


def model_config(model_id: str) -> DictConfig:
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose("train", overrides=[f"model={model_id}", "data=synthetic"])
    with open_dict(cfg):
        for key in sizes(cfg.model):
            cfg.model[key] = min(cfg.model[key], TINY)
        for (node, key), value in TINY_NODES.items():
            if node in cfg.model:
                cfg.model[node][key] = value
        stage = first_stage_key(model_id)
        if stage:  # two-stage methods: one epoch each
            cfg.model[stage] = 1
    return cfg.model


def build(model_id: str):
    return instantiate(model_config(model_id), image_size=SIZE, in_channels=1)


def small_batches() -> OneClassDataModule:
    """Six batches an epoch, so a GAN's generator (every n_critic-th batch) is updated too."""
    return OneClassDataModule("synthetic", image_size=SIZE, batch_size=8)


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_a_model_and_its_yaml_agree_where_its_first_stage_ends(model_id):
    """The yaml names the setting (for the benchmarks and the pages, which never build a model);
    the model gives its value (for the learning curve): one is never stated without the other."""
    stage = first_stage_key(model_id)
    expected = model_config(model_id)[stage] if stage else 0
    assert build(model_id).first_stage_epochs == expected


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_training_changes_every_trainable_parameter(model_id):
    torch.manual_seed(0)
    model = build(model_id)
    before = copy.deepcopy({n: p.detach().clone() for n, p in model.named_parameters()})
    quiet_trainer(max_epochs=2, limit_val_batches=0).fit(model, datamodule=small_batches())
    unchanged = [n for n, p in model.named_parameters() if torch.equal(p, before[n])]
    assert unchanged == []


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_training_losses_reach_the_progress_bar_only_when_one_is_shown(model_id):
    """Lightning reads every progress-bar value back as a number after each step (on a GPU, a
    wait for the device); a run without a bar must not pay it, and must still log its losses."""
    shown = {}
    for bar in (True, False):
        torch.manual_seed(0)
        trainer = quiet_trainer(
            max_epochs=2,  # a two-stage method's second stage included
            limit_val_batches=0,
            enable_progress_bar=bar,
        )
        trainer.fit(build(model_id), datamodule=small_batches())
        logged = {key for key in trainer.callback_metrics if key.startswith("train/")}
        shown[bar] = set(trainer.progress_bar_metrics)
        assert shown[bar] == (logged if bar else set())
    assert shown[True] or model_id == "iforest"  # every gradient-trained method logs a loss


class StepsLogged(Logger):
    """Records the steps at which Lightning wrote `train/` values to the loggers."""

    name, version = "steps", 0
    steps: list[int]

    def __init__(self) -> None:
        super().__init__()
        self.steps = []

    def log_metrics(self, metrics, step=None) -> None:
        if any(key.startswith("train/") for key in metrics):
            self.steps.append(step)

    def log_hyperparams(self, *args, **kwargs) -> None:
        pass


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_losses_are_handed_to_lightning_only_on_the_steps_the_loggers_write(model_id):
    """Each logged value costs host time; without a bar, a model logs on the loggers' steps and
    an epoch's last batch, and the loggers still get a value on each of their steps."""
    torch.manual_seed(0)
    model, logger = build(model_id), StepsLogged()
    handed: list[int] = []
    log_dict = model.log_dict

    def counted(values, **kwargs):
        handed.append(model.trainer.fit_loop.epoch_loop._batches_that_stepped)
        log_dict(values, **kwargs)

    model.log_dict = counted
    trainer = quiet_trainer(
        max_epochs=2,  # a two-stage method's second stage included
        limit_val_batches=0,
        logger=logger,
        log_every_n_steps=4,
    )
    trainer.fit(model, datamodule=small_batches())  # 6 batches an epoch: steps 0-11
    if model_id == "iforest":  # no gradient steps, nothing to log
        assert handed == logger.steps == []
        return
    assert logger.steps == [3, 7, 11]
    assert sorted(set(handed)) == [3, 5, 7, 11]  # the loggers' steps and each epoch's last


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_scores_are_finite_float32_independent_of_batch_mates_and_round_trip(model_id, tmp_path):
    torch.manual_seed(0)
    model = build(model_id)
    data = small_batches()
    trainer = quiet_trainer(max_epochs=2, limit_val_batches=0)
    trainer.fit(model, datamodule=data)
    model.eval()
    model.prepare_scoring()
    images = next(iter(data.test_dataloader())).images
    with torch.no_grad():
        torch.manual_seed(1)
        scores = model.anomaly_score(images)
        torch.manual_seed(1)
        again = model.anomaly_score(images)
    # float32 from the nets; iForest keeps scikit-learn's float64 (its reference rows were
    # scored so, and the metrics read every score in float64).
    assert scores.dtype in (torch.float32, torch.float64) and scores.shape == (len(images),)
    assert torch.isfinite(scores).all() and torch.equal(scores, again)
    if model_config(model_id).get("score") != "latent_search":  # its starts are drawn per batch
        with torch.no_grad():  # the scoring batch size is not part of the run key
            halves = torch.cat([model.anomaly_score(half) for half in images.split(5)])
        torch.testing.assert_close(halves, scores, rtol=1e-5, atol=1e-6)
    with torch.no_grad():  # an anomaly map's source, where the method has one
        rebuilt = model.reconstruction(images)
    assert rebuilt is None or (rebuilt.shape == images.shape and torch.isfinite(rebuilt).all())

    trainer.save_checkpoint(tmp_path / "last.ckpt")
    restored = type(model).load_from_checkpoint(tmp_path / "last.ckpt", weights_only=True)
    mine, theirs = model.state_dict(), restored.state_dict()
    assert mine.keys() == theirs.keys()
    assert all(torch.equal(mine[k], theirs[k]) for k in mine)


@pytest.mark.parametrize("size", [size for size in IMAGE_SIZES if size > SIZE])
@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_every_model_trains_and_scores_at_every_image_size_it_allows(model_id, size):
    """The larger sizes for one's own photos go through the same nets (one more layer a
    doubling): each method takes a few steps and scores, and a reconstruction has the
    image's shape."""
    torch.manual_seed(0)
    data = OneClassDataModule("synthetic", image_size=size, batch_size=4)
    model = instantiate(model_config(model_id), image_size=size, in_channels=data.num_channels)
    quiet_trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=0).fit(model, data)
    model.eval()
    images = next(iter(data.test_dataloader())).images[:4]
    with torch.no_grad():
        model.prepare_scoring()
        scores, rebuilt = model.anomaly_score(images), model.reconstruction(images)
    assert scores.shape == (4,) and torch.isfinite(scores).all()
    assert rebuilt is None or rebuilt.shape == images.shape


@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_non_positive_sizes_and_rates_are_refused_naming_the_key(model_id):
    cfg = model_config(model_id)
    keys = list(sizes(cfg))
    keys += [f"{node}.{k}" for node, k, _ in NODE_SETTINGS if node in cfg]
    keys += [f"{k}.lr" for k, node in cfg.items() if k.endswith("optimizer") and "lr" in node]
    for key in keys:
        broken = copy.deepcopy(cfg)
        parent, _, leaf = key.rpartition(".")
        (broken[parent] if parent else broken)[leaf] = -3
        with pytest.raises(ValueError, match=f"model.{key}=-3 is not allowed; allowed: a positive"):
            check_model_settings(broken, declared_settings(get_class(broken._target_)))
    # A size, count or epoch budget is an integer: 2.5 is named here, not failing inside torch.
    for key in list(sizes(cfg)) + (["search.steps"] if "search" in cfg else []):
        broken = copy.deepcopy(cfg)
        parent, _, leaf = key.rpartition(".")
        (broken[parent] if parent else broken)[leaf] = 2.5
        with pytest.raises(
            ValueError, match=f"model.{key}=2.5 is not allowed; allowed: a positive integer"
        ):
            check_model_settings(broken, declared_settings(get_class(broken._target_)))
    for key in ("latent_dim", "width"):  # and at construction, for code that builds models
        if key in cfg:
            broken = copy.deepcopy(cfg)
            broken[key] = -3
            with pytest.raises(ValueError, match=f"model.{key}=-3 is not allowed"):
                instantiate(broken, image_size=SIZE, in_channels=1)


@pytest.mark.slow
@pytest.mark.parametrize("model_id", MODEL_IDS)
def test_a_forward_pass_score_exports_to_onnx_with_the_same_scores(model_id, tmp_path):
    """Every method whose score is one forward pass exports it (onnxruntime's scores within the
    tolerance of PyTorch's, checked inside `export_onnx`); the others say why they cannot."""
    pytest.importorskip("onnxruntime")
    torch.manual_seed(0)
    model = build(model_id)
    data = small_batches()
    quiet_trainer(max_epochs=2, limit_val_batches=0).fit(model, datamodule=data)
    model.eval()
    model.prepare_scoring()
    images = next(iter(data.test_dataloader())).images
    if model.export_refusal() is not None:
        with pytest.raises(ValueError, match="cannot be one ONNX graph"):
            export_onnx(model, images, tmp_path / "model.onnx")
        return
    assert export_onnx(model, images, tmp_path / "model.onnx") <= 1e-4
    assert (tmp_path / "model.onnx").stat().st_size > 0
