"""Anomaly scores shared by the methods (higher = more anomalous)."""

from __future__ import annotations

from torch import Tensor

from anomaly_bench.validation import check_choice

LATENT_NORMS = ("l2", "l1")


def latent_distance(latent: Tensor, reconstructed_latent: Tensor, norm: str) -> Tensor:
    """Per-sample mean distance between two latent codes.

    `l2` is the GANomaly reference code's score, mean((G_E(x) - E(G(x)))^2); `l1` is the
    Mem_GANomaly paper's eq. 8 / eq. 33, mean |G_E(x) - E(G(x))|. Means rather than sums keep
    the scale independent of the latent size; AUROC depends only on the ranking.
    """
    check_choice("score_norm", norm, LATENT_NORMS)
    difference = (latent - reconstructed_latent).flatten(1)
    if norm == "l2":
        return difference.pow(2).mean(dim=1)
    return difference.abs().mean(dim=1)
