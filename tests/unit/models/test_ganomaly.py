import lightning as L
import pytest
import torch
import torch.nn.functional as F

from anomaly_bench.data import OneClassDataModule
from anomaly_bench.models.ganomaly import Ganomaly


def tiny(**kwargs) -> Ganomaly:
    return Ganomaly(**{"image_size": 16, "in_channels": 1, "latent_dim": 16, "width": 16, **kwargs})


def fit(model: Ganomaly, batches: int) -> None:
    """Train on `batches` batches: global_step counts G's and D's optimiser steps, two per batch."""
    trainer = L.Trainer(
        max_steps=2 * batches,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
    )
    trainer.fit(model, datamodule=OneClassDataModule("synthetic", image_size=16, batch_size=16))


@pytest.mark.parametrize("channels", [1, 3])
def test_output_shapes(channels):
    model = tiny(in_channels=channels).eval()
    images = torch.rand(5, channels, 16, 16) * 2 - 1
    fake, latent, reconstructed = model.reconstruct(images)
    assert fake.shape == images.shape
    assert latent.shape == reconstructed.shape == (5, 16)
    assert model.anomaly_score(images).shape == (5,)


def test_one_training_step_changes_generator_and_discriminator():
    model = tiny()
    before = {name: p.detach().clone() for name, p in model.named_parameters()}
    fit(model, batches=1)
    for net in ("encoder", "decoder", "reencoder", "discriminator"):
        changed = [
            not torch.equal(before[n], p)
            for n, p in model.named_parameters()
            if n.startswith(net + ".")
        ]
        assert all(changed), f"{net}: {changed.count(False)} tensors unchanged"


def test_reconstruction_loss_falls_over_a_few_dozen_steps():
    torch.manual_seed(0)
    model = tiny()
    data = OneClassDataModule("synthetic", image_size=16)
    data.setup()
    images = data.train_set[list(range(32))].images

    def contextual_loss() -> float:
        with torch.no_grad():
            return F.l1_loss(model.reconstruct(images)[0], images).item()

    before = contextual_loss()
    fit(model, batches=40)
    assert contextual_loss() < 0.8 * before


def test_discriminator_is_reinitialised_only_when_its_loss_collapses(monkeypatch):
    calls = []
    for threshold, expected in ((0.0, 0), (1e9, 3)):
        model = tiny(d_reinit_threshold=threshold)
        monkeypatch.setattr(model.discriminator, "reset_parameters", lambda: calls.append(1))
        calls.clear()
        fit(model, batches=3)
        assert len(calls) == expected


def test_score_norm_choice():
    images = torch.rand(4, 1, 16, 16)
    l1, l2 = tiny(score_norm="l1").eval(), tiny(score_norm="l2").eval()
    l2.load_state_dict(l1.state_dict())
    _, latent, reconstructed = l1.reconstruct(images)
    assert torch.allclose(l1.anomaly_score(images), (latent - reconstructed).abs().mean(1))
    assert torch.allclose(l2.anomaly_score(images), (latent - reconstructed).pow(2).mean(1))
    with pytest.raises(ValueError, match=r"score_norm='l3'.*l2, l1"):
        tiny(score_norm="l3")
