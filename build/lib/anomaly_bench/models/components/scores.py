"""Anomaly scores shared by the methods (higher = more anomalous)."""

from __future__ import annotations

from torch import Tensor

from anomaly_bench.settings.checks import check_choice

LATENT_NORMS = ("l2", "l1")


def per_sample_mse(a: Tensor, b: Tensor) -> Tensor:
    """||a - b||^2 / (elements per sample), one value per sample [B]."""
    return (a - b).flatten(1).pow(2).mean(dim=1)


def latent_distance(latent: Tensor, reconstructed_latent: Tensor, norm: str) -> Tensor:
    """Per-sample mean distance between two latent codes.

    `l2` is the GANomaly reference code's score, mean((G_E(x) - E(G(x)))^2); `l1` is the
    Mem_GANomaly paper's eq. 8 / eq. 33, mean |G_E(x) - E(G(x))|. Means rather than sums keep
    the scale independent of the latent size; AUROC depends only on the ranking.
    """
    check_choice("score_norm", norm, LATENT_NORMS)
    if norm == "l2":
        return per_sample_mse(latent, reconstructed_latent)
    return (latent - reconstructed_latent).flatten(1).abs().mean(dim=1)
