"""The three ways a latent GAN here trains its discriminator or critic, one class per paper.

A latent GAN (`models/latent_gan.py`) is one training scheme, G: z -> x against D; what sets
AnoGAN, WGAN and WGAN-GP apart is only this choice: D's loss, G's loss, what happens to D after
its step, and whether G learns from the batch D just saw (DCGAN) or from a fresh one (the WGAN
references). The equations are in `losses.py`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from functools import partial

import torch
from torch import Tensor, nn
from torch.optim import Adam, RMSprop

from anomaly_bench.models.base import OptimizerFactory
from anomaly_bench.models.components.dcgan import DCGAN_OPTIMIZER
from anomaly_bench.models.components.losses import (
    discriminator_bce_loss,
    generator_bce_loss,
    gradient_penalty,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)

Critic = Callable[[Tensor], Tensor]


class CriticLoss(ABC):
    """What a latent GAN's training step asks of its method."""

    # G's step reuses the G(z) of D's step (DCGAN); False: G's step draws a fresh z (WGAN).
    reuses_generated: bool
    # Whether D's value is a critic's estimate that f-AnoGAN's critic score can read; a BCE
    # logit saturates on images far from the training set, so only the Wasserstein critics do.
    scores_as_critic: bool
    # Whether D has BatchNorm unless the method says otherwise.
    discriminator_batch_norm = True
    # D's steps per G step, and the score, unless the method says otherwise.
    n_critic: int
    score: str
    # The optimiser of D and G (the paper's), unless the method says otherwise.
    optimizer: OptimizerFactory

    @abstractmethod
    def critic_loss(self, critic: Critic, real: Tensor, fake: Tensor) -> tuple[Tensor, dict]:
        """D's loss on a real and a generated batch (D of real first: BatchNorm sees them in
        that order), and what to log of it."""

    @abstractmethod
    def generator_loss(self, fake_values: Tensor) -> Tensor:
        """G's loss from D's values of a generated batch."""

    @abstractmethod
    def after_critic_step(self, critic: nn.Module) -> None:
        """What the method does to D's weights after each of D's steps (WGAN clips them)."""


class BceLoss(CriticLoss):
    """DCGAN's (Radford et al. 2016), as AnoGAN trains: BCE on D's logit, the non-saturating G
    loss, G's step on the G(z) that D's step saw."""

    reuses_generated = True
    scores_as_critic = False
    n_critic = 1
    score = "latent_search"
    optimizer = DCGAN_OPTIMIZER

    def critic_loss(self, critic: Critic, real: Tensor, fake: Tensor) -> tuple[Tensor, dict]:
        return discriminator_bce_loss(critic(real), critic(fake)), {}

    def generator_loss(self, fake_values: Tensor) -> Tensor:
        return generator_bce_loss(fake_values)

    def after_critic_step(self, critic: nn.Module) -> None:
        """DCGAN leaves D as its step left it."""


class WassersteinLoss(CriticLoss):
    """WGAN's (Arjovsky et al. 2017): E[D(G(z))] - E[D(x)], the critic's weights clipped into
    [-c, c] after each step (`clip_value=None`: no clipping)."""

    reuses_generated = False
    scores_as_critic = True
    # Both WGAN papers' Algorithm 1; the critic score is f-AnoGAN's.
    n_critic = 5
    score = "critic"
    # WGAN's Algorithm 1: RMSprop at 5e-5.
    optimizer = partial(RMSprop, lr=5e-5)

    def __init__(self, clip_value: float | None) -> None:
        self.clip_value = clip_value

    def critic_loss(self, critic: Critic, real: Tensor, fake: Tensor) -> tuple[Tensor, dict]:
        loss = wasserstein_critic_loss(critic(real), critic(fake))
        return loss, {"train/wasserstein": -loss}

    def generator_loss(self, fake_values: Tensor) -> Tensor:
        return wasserstein_generator_loss(fake_values)

    def after_critic_step(self, critic: nn.Module) -> None:
        if self.clip_value is None:
            return
        with torch.no_grad():
            for parameter in critic.parameters():
                parameter.clamp_(-self.clip_value, self.clip_value)


class GradientPenaltyLoss(WassersteinLoss):
    """WGAN-GP's (Gulrajani et al. 2017): the Wasserstein loss plus lambda times the gradient
    penalty, instead of clipping. Its critic has no BatchNorm: the penalty is taken per sample,
    and batch statistics would couple the samples (the paper's sec. 4)."""

    discriminator_batch_norm = False
    # WGAN-GP's Algorithm 1: Adam at 1e-4, betas (0.0, 0.9).
    optimizer = partial(Adam, lr=1e-4, betas=(0.0, 0.9))

    def __init__(self, gp_weight: float) -> None:
        super().__init__(clip_value=None)
        self.gp_weight = gp_weight

    def critic_loss(self, critic: Critic, real: Tensor, fake: Tensor) -> tuple[Tensor, dict]:
        wasserstein = wasserstein_critic_loss(critic(real), critic(fake))
        penalty = gradient_penalty(critic, real, fake)
        loss = wasserstein + self.gp_weight * penalty
        return loss, {"train/wasserstein": -wasserstein, "train/gradient_penalty": penalty}
