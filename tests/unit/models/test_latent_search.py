"""AnoGAN's latent search: it lowers its loss, and a batch searches as its images would alone."""

import pytest
import torch

from anomaly_bench.models.anogan import Anogan
from anomaly_bench.models.components.latent_search import SearchSettings, latent_search
from tests.unit.models.helpers import SIZE, fit, synthetic_data


@pytest.fixture(scope="module")
def trained() -> tuple[Anogan, torch.Tensor]:
    """A tiny AnoGAN trained a few epochs on synthetic data, and 8 test images."""
    torch.manual_seed(0)
    model = Anogan(image_size=SIZE, in_channels=1, latent_dim=8, width=16)
    fit(model, epochs=4)
    data = synthetic_data()
    data.setup()
    return model.eval(), data.test_set.batch(slice(0, 640, 80)).images


def search(model: Anogan, images: torch.Tensor, latent: torch.Tensor, steps: int) -> torch.Tensor:
    return latent_search(
        model.generator,
        model.discriminator_features,
        images,
        latent,
        SearchSettings(steps=steps, lr=0.01, weight=0.1),
    )


def test_the_search_lowers_the_loss_of_every_image(trained):
    model, images = trained
    latent = torch.randn(images.shape[0], 8, generator=torch.Generator().manual_seed(1))
    before, after = search(model, images, latent, 0), search(model, images, latent, 30)
    assert (after < before).all(), (before, after)


def test_a_batched_search_equals_searching_each_image_alone(trained):
    model, images = trained
    latent = torch.randn(images.shape[0], 8, generator=torch.Generator().manual_seed(2))
    batched = search(model, images, latent, 20)
    alone = torch.cat([search(model, images[i : i + 1], latent[i : i + 1], 20) for i in range(8)])
    torch.testing.assert_close(batched, alone, rtol=1e-4, atol=1e-4)


def test_the_search_runs_under_inference_mode_and_leaves_the_nets_without_gradients(trained):
    model, images = trained
    model.zero_grad(set_to_none=True)
    with torch.inference_mode():
        scores = search(model, images, torch.zeros(images.shape[0], 8), 5)
    assert scores.shape == (8,) and torch.isfinite(scores).all()
    assert all(p.grad is None for p in model.parameters())
