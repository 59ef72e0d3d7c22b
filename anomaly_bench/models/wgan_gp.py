"""WGAN-GP (Gulrajani et al., NeurIPS 2017): WGAN with a gradient penalty instead of clipping.

Defaults are the paper's Algorithm 1: lambda = 10, n_critic = 5, Adam lr 1e-4 with betas
(0.0, 0.9). The critic has no BatchNorm, because the penalty is taken per sample and batch
statistics would couple the samples (the paper's sec. 4, "no critic batch normalization").
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from torch import Tensor
from torch.optim import Adam

from anomaly_bench.models.base import OptimizerFactory
from anomaly_bench.models.components.losses import gradient_penalty, wasserstein_critic_loss
from anomaly_bench.models.wgan import Wgan
from anomaly_bench.settings.checks import NonNegative, PositiveInt

WGAN_GP_OPTIMIZER: OptimizerFactory = partial(Adam, lr=1e-4, betas=(0.0, 0.9))


class WganGp(Wgan):
    """Critic loss E[D(G(z))] - E[D(x)] + lambda * E[(||grad D(x_hat)||_2 - 1)^2]."""

    def __init__(
        self,
        image_size: int = 32,
        in_channels: int = 1,
        latent_dim: PositiveInt = 100,
        width: PositiveInt = 64,
        gp_weight: NonNegative = 10.0,
        n_critic: PositiveInt = 5,
        score: str = "critic",
        critic_reference_images: PositiveInt = 32000,
        search: Mapping[str, Any] | None = None,
        optimizer: OptimizerFactory = WGAN_GP_OPTIMIZER,
    ) -> None:
        super().__init__(
            image_size,
            in_channels,
            latent_dim,
            width,
            clip_value=None,
            n_critic=n_critic,
            score=score,
            critic_reference_images=critic_reference_images,
            search=search,
            optimizer=optimizer,
            discriminator_batch_norm=False,
        )

    def critic_loss(self, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        wasserstein = wasserstein_critic_loss(self.critic_values(real), self.critic_values(fake))
        penalty = gradient_penalty(self.critic_values, real, fake)
        loss = wasserstein + self.hparams.gp_weight * penalty
        return loss, {"train/wasserstein": -wasserstein, "train/gradient_penalty": penalty}
