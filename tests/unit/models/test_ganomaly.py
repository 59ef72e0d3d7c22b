import pytest
import torch

from anomaly_bench.models.ganomaly import Ganomaly
from tests.unit.models.helpers import BATCHES_PER_EPOCH, fit


def tiny(**kwargs) -> Ganomaly:
    return Ganomaly(**{"image_size": 16, "in_channels": 1, "latent_dim": 16, "width": 16, **kwargs})


def test_discriminator_is_reinitialised_only_when_its_loss_collapses(monkeypatch):
    calls = []
    for threshold, expected in ((0.0, 0), (1e9, BATCHES_PER_EPOCH)):
        model = tiny(d_reinit_threshold=threshold)
        monkeypatch.setattr(model.discriminator, "reset_parameters", lambda: calls.append(1))
        calls.clear()
        fit(model, epochs=1)
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
