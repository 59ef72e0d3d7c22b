"""AnoGAN (Schlegl et al., IPMI 2017): a DCGAN on normal images, scored by latent search.

Training is DCGAN's (Radford et al. 2016): BCE, D then G on each batch, Adam lr 2e-4 with betas
(0.5, 0.999), the non-saturating generator loss. Scoring follows the AnoGAN paper: lambda = 0.1
and 500 backpropagation steps on z per image. The paper names no optimiser or step size for the
search; Adam at lr 0.01 is this project's choice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.base import OptimizerFactory
from anomaly_bench.models.components.dcgan import DCGAN_OPTIMIZER
from anomaly_bench.models.components.losses import discriminator_bce_loss, generator_bce_loss
from anomaly_bench.models.latent_gan import LatentGan
from anomaly_bench.settings.checks import PositiveInt


class Anogan(LatentGan):
    """DCGAN; score (1 - lambda) ||x - G(z*)||_1 + lambda ||f(x) - f(G(z*))||_1 at the found z*."""

    def __init__(
        self,
        image_size: int = 32,
        in_channels: int = 1,
        latent_dim: PositiveInt = 100,
        width: PositiveInt = 64,
        score: str = "latent_search",
        search: Mapping[str, Any] | None = None,
        optimizer: OptimizerFactory = DCGAN_OPTIMIZER,
    ) -> None:
        super().__init__(
            image_size,
            in_channels,
            latent_dim,
            width,
            discriminator_batch_norm=True,
            score=score,
            search=search,
            optimizer=optimizer,
        )

    def training_step(self, batch: Batch, batch_idx: int) -> None:
        opt_g, opt_d = self.optimizers()
        images = batch.images
        fake = self.generator(self.sample_latent(images.shape[0]))

        d_loss = discriminator_bce_loss(
            self.critic_values(images), self.critic_values(fake.detach())
        )
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()

        g_loss = generator_bce_loss(self.critic_values(fake))
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.log_dict({"train/d_loss": d_loss, "train/g_loss": g_loss}, prog_bar=True)
