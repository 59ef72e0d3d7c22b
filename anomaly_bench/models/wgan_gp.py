"""WGAN-GP (Gulrajani et al., NeurIPS 2017): WGAN with a gradient penalty instead of clipping.

Defaults are the paper's Algorithm 1: lambda = 10, n_critic = 5, Adam lr 1e-4 with betas
(0.0, 0.9). The critic has no BatchNorm, because the penalty is taken per sample and batch
statistics would couple the samples (the paper's sec. 4, "no critic batch normalization").
"""

from __future__ import annotations

from typing import Any

from anomaly_bench.models.components.critic_losses import GradientPenaltyLoss
from anomaly_bench.models.latent_gan import LatentGan
from anomaly_bench.settings.checks import NonNegative


class WganGp(LatentGan):
    """Critic loss E[D(G(z))] - E[D(x)] + lambda * E[(||grad D(x_hat)||_2 - 1)^2]; score `critic`
    or `latent_search`, as WGAN's; its other settings are the latent GAN scheme's."""

    def __init__(self, gp_weight: NonNegative = 10.0, **settings: Any) -> None:
        super().__init__(GradientPenaltyLoss(gp_weight), **settings)
