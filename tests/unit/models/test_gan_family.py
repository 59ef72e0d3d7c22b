"""AnoGAN, WGAN, WGAN-GP and f-AnoGAN: shapes, every net trains, clipping, stages, scores."""

import lightning as L
import pytest
import torch

from anomaly_bench.engine.trained_model import load_trained
from anomaly_bench.models.anogan import Anogan
from anomaly_bench.models.fanogan import ENCODER_TRAININGS, FAnogan
from anomaly_bench.models.wgan import Wgan
from anomaly_bench.models.wgan_gp import WganGp
from tests.unit.models.helpers import SIZE, fit, quiet_trainer, synthetic_data

NETS = {"latent_dim": 8, "width": 16, "search": {"steps": 3}}
# n_critic 2 so that G trains within the 3 batches of a synthetic epoch.
TINY = {
    "anogan": lambda channels=1, **kw: Anogan(image_size=SIZE, in_channels=channels, **(NETS | kw)),
    "wgan": lambda channels=1, **kw: Wgan(
        image_size=SIZE, in_channels=channels, **(NETS | {"n_critic": 2} | kw)
    ),
    "wgan_gp": lambda channels=1, **kw: WganGp(
        image_size=SIZE, in_channels=channels, **(NETS | {"n_critic": 2} | kw)
    ),
    "fanogan": lambda channels=1, **kw: FAnogan(
        image_size=SIZE, in_channels=channels, **(NETS | {"n_critic": 2, "gan_epochs": 1} | kw)
    ),
}
SCORES = {
    "anogan": ["latent_search"],
    "wgan": ["critic", "latent_search"],
    "wgan_gp": ["critic", "latent_search"],
    "fanogan": ["encoder", "critic", "latent_search"],
}


def scores_from_test_loop(model: L.LightningModule) -> torch.Tensor:
    """Scores of the synthetic test split through Lightning's test loop, as a run gets them."""
    scores: list[torch.Tensor] = []

    class Collect(L.Callback):
        def on_test_batch_end(self, trainer, module, outputs, batch, batch_idx):
            scores.append(outputs["scores"])

    trainer = quiet_trainer(callbacks=[Collect()])
    trainer.test(model, datamodule=synthetic_data())
    return torch.cat(scores)


@pytest.mark.parametrize(("name", "score"), [(n, s) for n in TINY for s in SCORES[n]])
@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_every_score_have_the_right_shapes(name, score, channels):
    model = TINY[name](channels, score=score).eval()
    assert model.generator(model.sample_latent(5)).shape == (5, channels, SIZE, SIZE)
    scores = model.anomaly_score(torch.rand(5, channels, SIZE, SIZE) * 2 - 1)
    assert scores.shape == (5,) and torch.isfinite(scores).all()


def test_an_unknown_score_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="score='encoder' is not allowed; allowed: latent_search"):
        Anogan(image_size=SIZE, in_channels=1, score="encoder")


def test_wgan_clips_every_critic_weight():
    model = TINY["wgan"](clip_value=0.005)
    fit(model, epochs=1)
    weights = torch.cat([p.flatten() for p in model.discriminator.parameters()])
    assert weights.abs().max() <= 0.005
    assert weights.abs().max().item() == pytest.approx(0.005)  # the clip was active, not vacuous


def test_wgan_gp_does_not_clip():
    model = TINY["wgan_gp"]()
    fit(model, epochs=1)
    weights = torch.cat([p.flatten() for p in model.discriminator.parameters()])
    assert weights.abs().max() > 0.01


@pytest.mark.parametrize("encoder", ENCODER_TRAININGS)
def test_fanogan_trains_the_gan_then_only_the_encoder(encoder):
    model = TINY["fanogan"](encoder=encoder)
    snapshots: list[dict[str, list[torch.Tensor]]] = []

    def snapshot() -> dict[str, list[torch.Tensor]]:
        return {
            net: [p.detach().clone() for p in getattr(model, net).parameters()]
            for net in ("generator", "discriminator", "encoder")
        }

    class Snapshot(L.Callback):
        def on_train_epoch_end(self, trainer, module):
            snapshots.append(snapshot())

    snapshots.append(snapshot())
    trainer = quiet_trainer(max_epochs=2, callbacks=[Snapshot()])
    trainer.fit(model, datamodule=synthetic_data())
    start, after_gan, after_encoder = snapshots

    def moved(before: dict, after: dict, net: str) -> bool:
        return any(not torch.equal(a, b) for a, b in zip(before[net], after[net], strict=True))

    assert moved(start, after_gan, "generator") and moved(start, after_gan, "discriminator")
    assert not moved(start, after_gan, "encoder")
    assert moved(after_gan, after_encoder, "encoder")
    assert not moved(after_gan, after_encoder, "generator")
    assert not moved(after_gan, after_encoder, "discriminator")


def test_fanogan_refuses_a_budget_with_no_encoder_epoch():
    expected = r"trainer\.max_epochs=1 leaves no epoch for the encoder: FAnogan spends model\.gan_"
    with pytest.raises(ValueError, match=expected):
        fit(TINY["fanogan"](), epochs=1)


@pytest.mark.parametrize("name", ["wgan", "wgan_gp", "fanogan"])
def test_critic_score_is_the_training_mean_minus_the_critic_value(name):
    model = TINY[name](score="critic")
    fit(model, epochs=2)
    scores = scores_from_test_loop(model)
    data = synthetic_data()
    data.setup()
    model.eval()
    with torch.no_grad():
        train_mean = model.critic_values(data.train_set.batch(slice(None)).images).mean()
        test_values = model.critic_values(data.test_set.batch(slice(None)).images)
    assert model.critic_train_mean.item() == pytest.approx(train_mean.item(), abs=1e-5)
    torch.testing.assert_close(scores, train_mean - test_values, atol=1e-5, rtol=1e-4)


def test_fanogan_bounds_its_encoder_output_by_default_and_not_when_linear():
    images = torch.randn(4, 1, SIZE, SIZE)
    bounded = TINY["fanogan"]()
    with torch.no_grad():  # large weights push an unbounded E's output far out
        for parameter in bounded.encoder.parameters():
            parameter.mul_(20)
    assert bounded.hparams.encoder_output == "tanh"
    assert bounded.encode(images).abs().max() <= 1
    unbounded = TINY["fanogan"](encoder_output="linear")
    unbounded.load_state_dict(bounded.state_dict())
    assert unbounded.encode(images).abs().max() > 1
    torch.testing.assert_close(bounded.encode(images), torch.tanh(unbounded.encode(images)))
    with pytest.raises(ValueError, match="encoder_output='relu' is not allowed; allowed: tanh"):
        TINY["fanogan"](encoder_output="relu")


@pytest.mark.parametrize("model_id", sorted(TINY))
def test_the_search_settings_are_one_plain_node_a_checkpoint_restores(model_id, tmp_path):
    model = TINY[model_id](search={"steps": 4, "lr": 0.05})
    assert model.hparams.search == {"steps": 4, "lr": 0.05, "weight": 0.1}
    trainer = quiet_trainer(max_epochs=2, limit_val_batches=0)  # f-AnoGAN: one epoch a stage
    trainer.fit(model, datamodule=synthetic_data())
    trainer.save_checkpoint(tmp_path / "last.ckpt")
    restored = type(model).load_from_checkpoint(tmp_path / "last.ckpt", weights_only=True)
    assert restored.search == model.search


def test_an_unknown_search_setting_is_refused_naming_it_and_the_allowed_ones():
    with pytest.raises(ValueError, match=r"model\.search\.step is not allowed; allowed: steps, lr"):
        TINY["anogan"](search={"step": 3})


def test_a_checkpoint_from_before_the_scheme_loads_built_from_the_runs_config(tmp_path):
    """f-AnoGAN's checkpoints from when it sat on WGAN carry hparams today's constructor does not
    take (`clip_value`); predict and pictures build every model from its run's config and take
    only the weights from the file, so they load and score as they did."""
    model = TINY["fanogan"]()
    trainer = quiet_trainer(max_epochs=2, limit_val_batches=0)
    trainer.fit(model, datamodule=synthetic_data())
    trainer.save_checkpoint(tmp_path / "last.ckpt")
    saved = torch.load(tmp_path / "last.ckpt", weights_only=True)
    saved["hyper_parameters"] |= {"clip_value": None, "discriminator_batch_norm": False}
    torch.save(saved, tmp_path / "old.ckpt")
    with pytest.raises(TypeError, match="clip_value"):
        FAnogan.load_from_checkpoint(tmp_path / "old.ckpt", weights_only=True)

    config = {"_target_": "anomaly_bench.models.fanogan.FAnogan", **NETS, "n_critic": 2}
    restored = load_trained(config, synthetic_data(), tmp_path / "old.ckpt")
    images = torch.rand(4, 1, SIZE, SIZE) * 2 - 1
    torch.testing.assert_close(restored.anomaly_score(images), model.eval().anomaly_score(images))
