"""WGAN (Arjovsky et al., ICML 2017): a DCGAN pair trained on the Wasserstein objective.

Defaults are the paper's Algorithm 1: weight clipping c = 0.01, RMSprop lr 5e-5, n_critic = 5;
the critic is the DCGAN discriminator without a sigmoid and with BatchNorm, as the reference code
(github.com/martinarjovsky/WassersteinGAN) builds it. The reference's extra 100 critic steps
during the first 25 generator steps are left out. Each batch updates the critic, and every
`n_critic`-th batch also updates G, so an epoch feeds every real image to the critic once, as
the reference's data iterator does; batches are counted across epochs, so an epoch shorter than
n_critic batches still trains G.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import torch
from torch import Tensor
from torch.optim import RMSprop

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.base import OptimizerFactory
from anomaly_bench.models.components.losses import (
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from anomaly_bench.models.latent_gan import LatentGan, ScoreFunction
from anomaly_bench.settings.checks import OptionalPositive, PositiveInt

WGAN_OPTIMIZER: OptimizerFactory = partial(RMSprop, lr=5e-5)


class Wgan(LatentGan):
    """Wasserstein GAN; score `critic` (E[D(x_train)] - D(x)) or `latent_search` (AnoGAN's).

    `clip_value=None` turns clipping off for subclasses that constrain the critic otherwise.
    The critic score is f-AnoGAN's critic-only score: the critic rates normal images high, so an
    image rated below the training images' mean is anomalous. The mean is taken over up to
    `critic_reference_images` training images (32,000 as f-AnoGAN) at the start of each
    evaluation, with the weights being evaluated, and kept as a buffer.
    """

    def __init__(
        self,
        image_size: int = 32,
        in_channels: int = 1,
        latent_dim: PositiveInt = 100,
        width: PositiveInt = 64,
        clip_value: OptionalPositive = 0.01,
        n_critic: PositiveInt = 5,
        score: str = "critic",
        critic_reference_images: PositiveInt = 32000,
        search: Mapping[str, Any] | None = None,
        optimizer: OptimizerFactory = WGAN_OPTIMIZER,
        discriminator_batch_norm: bool = True,
    ) -> None:
        super().__init__(
            image_size,
            in_channels,
            latent_dim,
            width,
            discriminator_batch_norm=discriminator_batch_norm,
            score=score,
            search=search,
            optimizer=optimizer,
        )
        self.register_buffer("critic_train_mean", torch.zeros(()))

    def critic_loss(self, real: Tensor, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """The critic's loss on a real and a generated batch, and what to log of it."""
        loss = wasserstein_critic_loss(self.critic_values(real), self.critic_values(fake))
        return loss, {"train/wasserstein": -loss}

    def after_critic_step(self) -> None:
        """WGAN's Lipschitz constraint: clip every critic weight into [-c, c] (None: no clip)."""
        clip = self.hparams.clip_value
        if clip is None:
            return
        with torch.no_grad():
            for parameter in self.discriminator.parameters():
                parameter.clamp_(-clip, clip)

    def training_step(self, batch: Batch, batch_idx: int) -> None:
        opt_g, opt_d, *_ = self.optimizers()
        images = batch.images
        with torch.no_grad():
            fake = self.generator(self.sample_latent(images.shape[0]))
        d_loss, logs = self.critic_loss(images, fake)
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        self.after_critic_step()
        self.log_dict({"train/d_loss": d_loss, **logs}, prog_bar=True)

        if (self.trainer.fit_loop.total_batch_idx + 1) % self.hparams.n_critic == 0:
            fake = self.generator(self.sample_latent(images.shape[0]))
            g_loss = wasserstein_generator_loss(self.critic_values(fake))
            opt_g.zero_grad()
            self.manual_backward(g_loss)
            opt_g.step()
            self.log("train/g_loss", g_loss, prog_bar=True)

    def estimate_critic_train_mean(self) -> None:
        """E[D(x)] over the datamodule's training images, for the critic score's offset."""
        total, count = torch.zeros((), device=self.device), 0
        with torch.no_grad():
            for images in self.training_images():
                values = self.critic_values(images)
                values = values[: self.hparams.critic_reference_images - count]
                total += values.sum()
                count += values.shape[0]
                if count >= self.hparams.critic_reference_images:
                    break
        self.critic_train_mean.copy_(total / count)

    def prepare_scoring(self) -> None:
        if self.hparams.score == "critic":
            self.estimate_critic_train_mean()

    def critic_score(self, images: Tensor) -> Tensor:
        return self.critic_train_mean - self.critic_values(images)

    def score_functions(self) -> dict[str, ScoreFunction]:
        return {**super().score_functions(), "critic": self.critic_score}
