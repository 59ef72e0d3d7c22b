"""The memory module of MemAE (Gong et al. 2019) and Mem_GANomaly (Mem_GANomaly paper, sec. 3.1).

A learned matrix M (N slots x C) replaces each query z by a sparse convex combination of its
slots, so that what the decoder sees is built from normal patterns only.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from anomaly_bench.settings.checks import check_choice, check_positive

ADDRESSINGS = ("cosine", "dot")


class MemoryReadout(NamedTuple):
    """The rebuilt queries (shape of the input), the weights w' [..., N] and their mean entropy."""

    output: Tensor
    weights: Tensor
    entropy: Tensor


def hard_shrink(weights: Tensor, threshold: float, epsilon: float) -> Tensor:
    """Eq. 18-20: w * max(w - lambda, 0) / (|w - lambda| + eps), then L1 re-normalised per row.

    Weights below lambda become exactly 0; the rest keep (nearly) their value, so the gradient
    still reaches every surviving slot.
    """
    shrunk = weights * F.relu(weights - threshold) / ((weights - threshold).abs() + epsilon)
    return shrunk / shrunk.abs().sum(dim=-1, keepdim=True).clamp_min(epsilon)


def attention_entropy(weights: Tensor) -> Tensor:
    """Eq. 28-30 averaged over queries: -sum w' log w^, with w^ = 1 where w' = 0 (eq. 29)."""
    safe = torch.where(weights > 0, weights, torch.ones_like(weights))
    return -(weights * safe.log()).sum(dim=-1).mean()


class MemoryModule(nn.Module):
    """Memory addressing on vectors [B, C] or on feature maps [B, C, H, W] (one query per position).

    `addressing`: `cosine` is MemAE's eq. 10 (softmax over cosine similarities); `dot` is
    Mem_GANomaly's eq. 15-16 (softmax over v = z M^T). `shrink_threshold` defaults to 1/N, the
    MemAE paper's recommended lower end; 0 turns the shrinkage off (plain attention, eq. 17).
    """

    def __init__(
        self,
        num_slots: int,
        slot_dim: int,
        addressing: str = "cosine",
        shrink_threshold: float | None = None,
        epsilon: float = 1e-12,
    ) -> None:
        super().__init__()
        check_choice("addressing", addressing, ADDRESSINGS)
        check_positive("model.memory_size", num_slots)
        check_positive("memory slot size", slot_dim)
        self.addressing = addressing
        self.shrink_threshold = 1.0 / num_slots if shrink_threshold is None else shrink_threshold
        self.epsilon = epsilon
        bound = 1.0 / math.sqrt(slot_dim)
        self.memory = nn.Parameter(torch.empty(num_slots, slot_dim).uniform_(-bound, bound))

    def address(self, queries: Tensor) -> Tensor:
        """Sparse weights w' [Q, N] for queries [Q, C]."""
        if self.addressing == "cosine":
            logits = F.normalize(queries, dim=1) @ F.normalize(self.memory, dim=1).T
        else:
            logits = queries @ self.memory.T
        weights = logits.softmax(dim=1)
        if self.shrink_threshold > 0:
            weights = hard_shrink(weights, self.shrink_threshold, self.epsilon)
        return weights

    def forward(self, z: Tensor) -> MemoryReadout:
        if z.dim() == 2:
            weights = self.address(z)
            return MemoryReadout(weights @ self.memory, weights, attention_entropy(weights))
        if z.dim() == 4:
            batch, channels, height, width = z.shape
            queries = z.permute(0, 2, 3, 1).reshape(-1, channels)
            weights = self.address(queries)
            output = (
                (weights @ self.memory).reshape(batch, height, width, channels).permute(0, 3, 1, 2)
            )
            return MemoryReadout(
                output, weights.reshape(batch, height, width, -1), attention_entropy(weights)
            )
        raise ValueError(
            f"memory queries must be [B, C] or [B, C, H, W], got shape {tuple(z.shape)}"
        )


def nonzero_weights(readout: MemoryReadout) -> Tensor:
    """Per image: non-zero weights per query, averaged over the image's queries (2-D memories)."""
    counts = (readout.weights > 0).sum(dim=-1).float()
    return counts.flatten(1).mean(dim=1) if counts.dim() > 1 else counts


class MemoryDiagnostics:
    """What a memory model reports beside its scores: how many slots each test image reads
    (`nonzero_slots`, per image; the row gets its mean for normal and for anomalous images), and
    a warning when the memory has collapsed to one slot per query for every image.

    Mixed into an AnomalyModule that has `memory` (a MemoryModule) and `scored_readout(images)`,
    the scores and the memory's readout from one forward pass.
    """

    memory: MemoryModule

    def scored_readout(self, images: Tensor) -> tuple[Tensor, MemoryReadout]:
        raise NotImplementedError

    def anomaly_score(self, images: Tensor) -> Tensor:
        return self.scored_readout(images)[0]

    def score_and_diagnostics(self, images: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        scores, readout = self.scored_readout(images)
        return scores, {"nonzero_slots": nonzero_weights(readout)}

    def diagnostic_warnings(self, diagnostics: dict[str, Tensor]) -> list[str]:
        nonzero = diagnostics.get("nonzero_slots")
        if nonzero is None or not len(nonzero) or nonzero.max() > 1:
            return []
        slots = self.memory.memory.shape[0]
        return [
            f"memory collapse: every test image reads a single memory slot of {slots} (mean "
            f"non-zero attention weights {nonzero.mean().item():.2f}), so the decoder sees one "
            "pattern whatever the input and the scores say little about anomalies"
        ]
