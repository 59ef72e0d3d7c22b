import pytest
import torch

from anomaly_bench.models.ganomaly import Ganomaly
from tests.unit.models.helpers import fit


def tiny(**kwargs) -> Ganomaly:
    return Ganomaly(**{"image_size": 16, "in_channels": 1, "latent_dim": 16, "width": 16, **kwargs})


def test_discriminator_is_reinitialised_only_when_its_loss_collapses():
    """A re-drawn D has BatchNorm shifts of exactly 0; Adam moves them off 0 at the first step."""
    for threshold, redrawn in ((0.0, False), (1e9, True)):
        model = tiny(d_reinit_threshold=threshold)
        fit(model, epochs=1)
        shifts = [
            m.bias for m in model.discriminator.modules() if isinstance(m, torch.nn.BatchNorm2d)
        ]
        assert all(bool((shift == 0).all()) == redrawn for shift in shifts)


def test_score_norm_choice():
    images = torch.rand(4, 1, 16, 16)
    l1, l2 = tiny(score_norm="l1").eval(), tiny(score_norm="l2").eval()
    l2.load_state_dict(l1.state_dict())
    generated = l1.generator(images)
    difference = generated.latent - generated.reconstructed_latent
    assert torch.allclose(l1.anomaly_score(images), difference.abs().mean(1))
    assert torch.allclose(l2.anomaly_score(images), difference.pow(2).mean(1))
    with pytest.raises(ValueError, match=r"score_norm='l3'.*l2, l1"):
        tiny(score_norm="l3")
