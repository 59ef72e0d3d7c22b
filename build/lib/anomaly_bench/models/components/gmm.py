"""A Gaussian mixture fitted from soft memberships, with numerically safe energies (DAGMM eq. 5-6).

Covariances are factored by Cholesky with a jitter on the diagonal that grows until the factor
exists, and densities are combined by log-sum-exp, so collapsed (singular) components give a
finite energy instead of NaN.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
from torch import Tensor

INITIAL_JITTER = 1e-6
MAX_JITTER_TRIES = 8


class GaussianMixture(NamedTuple):
    """weights [K], means [K, D], covariances [K, D, D]."""

    weights: Tensor
    means: Tensor
    covariances: Tensor


def mixture_from_memberships(features: Tensor, memberships: Tensor) -> GaussianMixture:
    """DAGMM eq. 5: phi_k, mu_k and Sigma_k from features [N, D] and memberships gamma [N, K]."""
    # A component no sample belongs to would divide by zero; its weight stays ~0 regardless.
    totals = memberships.sum(dim=0).clamp_min(torch.finfo(memberships.dtype).tiny)
    weights = totals / features.shape[0]
    means = memberships.T @ features / totals.unsqueeze(1)
    centred = features.unsqueeze(1) - means.unsqueeze(0)
    covariances = torch.einsum("nk,nki,nkj->kij", memberships, centred, centred)
    return GaussianMixture(weights, means, covariances / totals.view(-1, 1, 1))


def stable_cholesky(covariances: Tensor) -> Tensor:
    """Cholesky factors of [K, D, D], adding jitter * I (x10 per failure) where one fails."""
    eye = torch.eye(covariances.shape[-1], dtype=covariances.dtype, device=covariances.device)
    jitter = INITIAL_JITTER
    for _ in range(MAX_JITTER_TRIES):
        factor, info = torch.linalg.cholesky_ex(covariances + jitter * eye)
        if not bool(info.any()):
            return factor
        jitter *= 10
    raise ValueError(
        f"covariance is not positive definite even with jitter {jitter / 10:g} on its diagonal"
    )


def sample_energy(features: Tensor, mixture: GaussianMixture) -> Tensor:
    """DAGMM eq. 6: E(z) = -log sum_k phi_k N(z; mu_k, Sigma_k), per sample [N]."""
    factor = stable_cholesky(mixture.covariances)
    centred = (features.unsqueeze(1) - mixture.means.unsqueeze(0)).unsqueeze(-1)
    whitened = torch.linalg.solve_triangular(factor.unsqueeze(0), centred, upper=False)
    mahalanobis = whitened.squeeze(-1).pow(2).sum(dim=-1)
    log_det = 2 * torch.log(torch.diagonal(factor, dim1=-2, dim2=-1)).sum(dim=-1)
    dimension = features.shape[1]
    log_density = -0.5 * (mahalanobis + log_det + dimension * math.log(2 * math.pi))
    log_weights = torch.log(mixture.weights.clamp_min(torch.finfo(features.dtype).tiny))
    return -torch.logsumexp(log_weights + log_density, dim=1)


def inverse_diagonal_penalty(covariances: Tensor) -> Tensor:
    """DAGMM's P(Sigma) = sum_k sum_j 1 / Sigma_k[j, j], which keeps components from collapsing."""
    diagonal = torch.diagonal(covariances, dim1=-2, dim2=-1)
    return (1 / (diagonal + INITIAL_JITTER)).sum()
