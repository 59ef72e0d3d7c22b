"""WGAN (Arjovsky et al., ICML 2017): a DCGAN pair trained on the Wasserstein objective.

Defaults are the paper's Algorithm 1: weight clipping c = 0.01, RMSprop lr 5e-5, n_critic = 5;
the critic is the DCGAN discriminator without a sigmoid and with BatchNorm, as the reference code
(github.com/martinarjovsky/WassersteinGAN) builds it. The reference's extra 100 critic steps
during the first 25 generator steps are left out. How batches alternate between the critic and
G is the latent GAN scheme's (`latent_gan.py`).
"""

from __future__ import annotations

from typing import Any

from anomaly_bench.models.components.critic_losses import WassersteinLoss
from anomaly_bench.models.latent_gan import LatentGan
from anomaly_bench.settings.checks import OptionalPositive


class Wgan(LatentGan):
    """Wasserstein GAN; score `critic` (E[D(x_train)] - D(x)) or `latent_search` (AnoGAN's).

    The latent GAN scheme with the Wasserstein loss, its critic clipped into [-c, c]
    (`clip_value=None` turns clipping off); its other settings are the scheme's.
    """

    def __init__(self, clip_value: OptionalPositive = 0.01, **settings: Any) -> None:
        super().__init__(WassersteinLoss(clip_value), **settings)
