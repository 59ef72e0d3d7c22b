"""AnoGAN (Schlegl et al., IPMI 2017): a DCGAN on normal images, scored by latent search.

Training is DCGAN's (Radford et al. 2016): BCE, D then G on each batch, Adam lr 2e-4 with betas
(0.5, 0.999), the non-saturating generator loss. Scoring follows the AnoGAN paper: lambda = 0.1
and 500 backpropagation steps on z per image. The paper names no optimiser or step size for the
search; Adam at lr 0.01 is this project's choice.
"""

from __future__ import annotations

from typing import Any

from anomaly_bench.models.components.critic_losses import BceLoss
from anomaly_bench.models.latent_gan import LatentGan


class Anogan(LatentGan):
    """DCGAN; score (1 - lambda) ||x - G(z*)||_1 + lambda ||f(x) - f(G(z*))||_1 at the found z*.

    The latent GAN scheme with DCGAN's BCE loss; every setting is the scheme's (`LatentGan`).
    """

    def __init__(self, **settings: Any) -> None:
        super().__init__(BceLoss(), **settings)
