"""The shared GAN losses: the gradient penalty's value and its gradient, the Wasserstein losses."""

import pytest
import torch

from anomaly_bench.models.components.losses import (
    gradient_penalty,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)

SHAPE = (6, 1, 4, 4)


def linear_critic(weight: torch.Tensor):
    return lambda images: images.flatten(1) @ weight


def test_gradient_penalty_is_zero_for_a_linear_critic_with_unit_norm_gradient():
    torch.manual_seed(0)
    weight = torch.randn(16)
    weight /= weight.norm()
    real, fake = torch.randn(SHAPE), torch.randn(SHAPE)
    assert gradient_penalty(linear_critic(weight), real, fake).item() == pytest.approx(0, abs=1e-10)


def test_gradient_penalty_is_the_squared_excess_norm_and_reaches_the_critic():
    torch.manual_seed(0)
    weight = torch.randn(16)
    weight = (2 * weight / weight.norm()).requires_grad_(True)
    penalty = gradient_penalty(linear_critic(weight), torch.randn(SHAPE), torch.randn(SHAPE))
    assert penalty.item() == pytest.approx(1.0, rel=1e-5)  # (||grad|| - 1)^2 = (2 - 1)^2
    penalty.backward()
    assert weight.grad is not None and weight.grad.norm() > 0


def test_gradient_penalty_is_positive_for_a_nonlinear_critic():
    torch.manual_seed(0)
    critic = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 8), torch.nn.Tanh())
    penalty = gradient_penalty(
        lambda x: critic(x).sum(dim=1), torch.randn(SHAPE), torch.randn(SHAPE)
    )
    assert penalty.item() > 0


def test_wasserstein_losses_are_the_mean_gaps():
    real, fake = torch.tensor([2.0, 4.0]), torch.tensor([1.0, -1.0])
    assert wasserstein_critic_loss(real, fake).item() == pytest.approx(0.0 - 3.0)
    assert wasserstein_generator_loss(fake).item() == pytest.approx(0.0)
