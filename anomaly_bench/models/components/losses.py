"""Training losses shared by the GAN methods."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def discriminator_bce_loss(real_logits: Tensor, fake_logits: Tensor) -> Tensor:
    """The standard GAN discriminator loss, -log D(x) - log(1 - D(G(.))), averaged over the two.

    The halving follows the GANomaly reference's `err_d`; it only rescales D's gradient.
    """
    real = F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
    fake = F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
    return 0.5 * (real + fake)


def feature_matching_loss(real_features: Tensor, fake_features: Tensor) -> Tensor:
    """GANomaly eq. 4 / Mem_GANomaly eq. 22: L2 between D's last features of x and of G(x)."""
    return F.mse_loss(fake_features, real_features)
