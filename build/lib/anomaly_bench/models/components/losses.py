"""Training losses shared by the GAN methods."""

from __future__ import annotations

from collections.abc import Callable

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


def generator_bce_loss(fake_logits: Tensor) -> Tensor:
    """DCGAN's non-saturating generator loss, -log D(G(z)) (Goodfellow et al. 2014, sec. 3)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def wasserstein_critic_loss(real_values: Tensor, fake_values: Tensor) -> Tensor:
    """The critic's side of the WGAN objective (Arjovsky et al. 2017, eq. 3), E[D(G(z))] - E[D(x)]:
    minimising it maximises the critic's estimate of the Wasserstein distance."""
    return fake_values.mean() - real_values.mean()


def wasserstein_generator_loss(fake_values: Tensor) -> Tensor:
    """The generator's side of the WGAN objective: -E[D(G(z))]."""
    return -fake_values.mean()


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: Tensor, fake: Tensor) -> Tensor:
    """WGAN-GP's penalty (Gulrajani et al. 2017, eq. 3): E[(||grad D(x_hat)||_2 - 1)^2].

    x_hat = eps * x + (1 - eps) * G(z) with one eps ~ U[0, 1] per sample. The graph is kept
    (`create_graph`) so that the penalty's own gradient reaches the critic's weights. `critic`
    maps images to one value per image.
    """
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device)
    interpolates = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (gradients,) = torch.autograd.grad(critic(interpolates).sum(), interpolates, create_graph=True)
    return (gradients.flatten(1).norm(2, dim=1) - 1).pow(2).mean()
