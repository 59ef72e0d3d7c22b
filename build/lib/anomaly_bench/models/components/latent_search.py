"""AnoGAN's test-time search for the latent code that best explains an image (Schlegl et al. 2017).

Every method with a generator G: z -> x and a discriminator with a feature layer f can score by
this search; AnoGAN does, WGAN, WGAN-GP and f-AnoGAN may (their `score=latent_search`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

import torch
from torch import Tensor
from torch.optim import Adam

FeatureExtractor = Callable[[Tensor], Tensor]


@dataclass(frozen=True)
class SearchSettings:
    """The search's settings, which travel together: one config node, `model.search`, for every
    GAN that can search. Defaults: the AnoGAN paper's 500 steps and lambda = 0.1; Adam at lr
    0.01 is this project's choice (the paper names no optimiser)."""

    steps: int = 500
    lr: float = 0.01
    weight: float = 0.1

    @classmethod
    def from_config(cls, node: Mapping[str, Any] | None) -> SearchSettings:
        """From the `model.search` node (a DictConfig, a dict, or None for the defaults)."""
        settings = dict(node or {})
        allowed = [field.name for field in fields(cls)]
        for key in settings:
            if key not in allowed:
                raise ValueError(
                    f"model.search.{key} is not allowed; allowed: {', '.join(allowed)}"
                )
        return cls(**settings)


def anogan_loss(
    images: Tensor,
    generated: Tensor,
    image_features: Tensor,
    generated_features: Tensor,
    weight: float,
) -> Tensor:
    """Per-image (1 - lambda) * R + lambda * D (AnoGAN eq. 3-5), both terms summed L1 distances.

    R = ||x - G(z)||_1 is the residual loss, D = ||f(x) - f(G(z))||_1 the feature-matching
    discrimination loss; sums (not means) as the AnoGAN paper writes them, so lambda = 0.1
    weighs the two as it did there.
    """
    residual = (images - generated).abs().flatten(1).sum(dim=1)
    discrimination = (image_features - generated_features).abs().flatten(1).sum(dim=1)
    return (1 - weight) * residual + weight * discrimination


def latent_search(
    generator: Callable[[Tensor], Tensor],
    features: FeatureExtractor,
    images: Tensor,
    initial_latent: Tensor,
    settings: SearchSettings,
) -> Tensor:
    """AnoGAN's anomaly score: the loss after `settings.steps` Adam steps on one z per image.

    The whole batch is searched at once: the loss summed over images gives each z exactly its own
    image's gradient, and Adam's update is elementwise, so with the nets in eval mode the result
    equals searching each image alone from the same initial z. Gradients are taken with respect
    to z only (`torch.autograd.grad`), so the nets' `.grad` are never touched. The search needs
    autograd, so it leaves Lightning's inference mode for its own tensors.
    """
    with torch.inference_mode(False), torch.enable_grad():
        images = images.clone()
        latent = initial_latent.clone().requires_grad_(True)
        optimizer = Adam([latent], lr=settings.lr)
        with torch.no_grad():
            image_features = features(images)

        def loss() -> Tensor:
            generated = generator(latent)
            return anogan_loss(
                images, generated, image_features, features(generated), settings.weight
            )

        for _ in range(settings.steps):
            (latent.grad,) = torch.autograd.grad(loss().sum(), latent)
            optimizer.step()
        with torch.no_grad():
            return loss()
