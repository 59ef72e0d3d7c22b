"""Behaviour every reconstruction-based detector shares: shapes, every net trains, loss falls."""

from functools import partial

import pytest
import torch
import torch.nn.functional as F
from torch.optim import Adam

from anomaly_bench.models.ganomaly import Ganomaly
from anomaly_bench.models.mem_ganomaly import MemGanomaly
from anomaly_bench.models.memae import Memae
from tests.unit.models.helpers import SIZE, fit, synthetic_data


def tiny_memae(channels: int, architecture: str) -> Memae:
    """lr 1e-3 rather than the reference 1e-4, so that a few dozen steps show the fall."""
    return Memae(
        image_size=SIZE,
        in_channels=channels,
        width=16,
        memory_size=20,
        optimizer=partial(Adam, lr=1e-3),
        architecture=architecture,
    )


TINY = {
    "ganomaly": lambda channels=1: Ganomaly(
        image_size=SIZE, in_channels=channels, latent_dim=16, width=16
    ),
    "memae": lambda channels=1: tiny_memae(channels, "dcgan"),
    "memae_mnist_net": lambda channels=1: tiny_memae(channels, "memae_mnist"),
    "mem_ganomaly": lambda channels=1: MemGanomaly(
        image_size=SIZE, in_channels=channels, latent_dim=16, width=16, memory_size=20
    ),
}


def reconstruction(model: torch.nn.Module, images: torch.Tensor) -> torch.Tensor:
    """G(x) of the GANomaly family's generator piece; MemAE's decoder output."""
    if isinstance(model, Ganomaly):
        return model.generator(images).fake
    return model.reconstruct(images)[0]


@pytest.mark.parametrize("name", TINY)
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes(name, channels):
    model = TINY[name](channels).eval()
    images = torch.rand(5, channels, SIZE, SIZE) * 2 - 1
    assert reconstruction(model, images).shape == images.shape
    assert model.anomaly_score(images).shape == (5,)


@pytest.mark.parametrize("name", TINY)
def test_reconstruction_error_falls(name):
    torch.manual_seed(0)
    model = TINY[name]()
    data = synthetic_data()
    data.setup()
    images = data.train_set.batch(slice(32)).images

    def reconstruction_error() -> float:
        with torch.no_grad():
            return F.l1_loss(reconstruction(model, images), images).item()

    before = reconstruction_error()
    fit(model, epochs=14)
    assert reconstruction_error() < 0.8 * before
