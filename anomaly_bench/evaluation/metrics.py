"""The metrics every method is judged by, as plain functions of (scores, labels): AUROC, AUPRC
and the paper's Table 4 rates, with anomalies as the positive class and scikit-learn's
conventions (exact curves, no threshold bins; the Youden search starts at +inf as `roc_curve`).

Scores are min-max scaled (the paper's eq. 9, order-preserving) in float64 before torchmetrics
sees them, because torchmetrics treats values outside [0, 1] as logits and squashes them with a
sigmoid, which in float32 turns large distinct scores into ties.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from torchmetrics.functional.classification import binary_auroc, binary_average_precision


@dataclass(frozen=True)
class RatesAtThreshold:
    """Paper eq. 35-37, anomalies positive: an image is flagged when its score >= threshold."""

    threshold: float
    gmean: float
    false_alarm_rate: float
    miss_rate: float


def min_max_scale(scores: Tensor) -> Tensor:
    """Eq. 9 in float64; a constant score vector maps to zeros (every ranking tied)."""
    scores = scores.double()
    span = scores.max() - scores.min()
    return (scores - scores.min()) / span if span > 0 else torch.zeros_like(scores)


def roc_points(scores: Tensor, labels: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """(fpr, tpr, thresholds) at every distinct score, highest threshold first, exact (no bins)."""
    order = torch.argsort(scores, descending=True, stable=True)
    sorted_scores, sorted_labels = scores[order], labels[order].double()
    last_of_each_value = torch.cat(
        [
            torch.nonzero(sorted_scores[1:] != sorted_scores[:-1]).flatten(),
            torch.tensor([len(scores) - 1]),
        ]
    )
    true_positives = sorted_labels.cumsum(0)[last_of_each_value]
    false_positives = (1 - sorted_labels).cumsum(0)[last_of_each_value]
    return (
        false_positives / (1 - sorted_labels).sum(),
        true_positives / sorted_labels.sum(),
        sorted_scores[last_of_each_value],
    )


def rates_at(scores: Tensor, labels: Tensor, threshold: float) -> RatesAtThreshold:
    """False-alarm rate (normals flagged), miss rate (anomalies passed) and their gmean."""
    flagged = scores >= threshold
    false_alarm = flagged[labels == 0].double().mean().item()
    miss = (~flagged[labels == 1]).double().mean().item()
    gmean = float(np.sqrt((1 - false_alarm) * (1 - miss)))
    return RatesAtThreshold(float(threshold), gmean, false_alarm, miss)


def youden_threshold(scores: Tensor, labels: Tensor) -> float:
    """The score maximising TPR - FPR (Youden's J); ties go to the highest such threshold.

    As scikit-learn's `roc_curve`, the first candidate is +inf (nothing flagged, J = 0), so where
    no threshold beats chance (all scores tied, a collapsed model) nothing is flagged: false-alarm
    rate 0, miss rate 1, rather than everything flagged.
    """
    fpr, tpr, thresholds = roc_points(scores, labels)
    gains = torch.cat([torch.zeros(1, dtype=tpr.dtype), tpr - fpr])
    best = int(torch.argmax(gains))
    return math.inf if best == 0 else thresholds[best - 1].item()


def quantile_threshold(normal_scores: Tensor, false_alarm_target: float) -> float:
    """The threshold flagging `false_alarm_target` of held-out normals: no test data used."""
    return torch.quantile(normal_scores.double(), 1.0 - false_alarm_target).item()


def check_binary_labels(labels: Tensor) -> None:
    """AUROC needs both classes; say so plainly instead of returning NaN."""
    n_anomalous = int(labels.sum())
    if n_anomalous in (0, len(labels)):
        raise ValueError(
            f"the test scores need normal and anomalous images; got {len(labels) - n_anomalous} "
            f"normal and {n_anomalous} anomalous"
        )


def detection_metrics(scores: Tensor, labels: Tensor) -> dict[str, float]:
    """AUROC, AUPRC and the Youden-threshold rates, which the paper takes on the test set."""
    check_binary_labels(labels)
    if not torch.isfinite(scores).all():
        raise ValueError(f"{int((~torch.isfinite(scores)).sum())} test scores are not finite")
    scaled, target = min_max_scale(scores), labels.long()
    youden = rates_at(scores, labels, youden_threshold(scores, labels))
    return {
        "auroc": binary_auroc(scaled, target, thresholds=None).item(),
        "auprc": binary_average_precision(scaled, target, thresholds=None).item(),
        "youden_threshold": youden.threshold,
        "gmean": youden.gmean,
        "false_alarm_rate": youden.false_alarm_rate,
        "miss_rate": youden.miss_rate,
    }


def held_out_rates(
    scores: Tensor, labels: Tensor, val_scores: Tensor, target: float
) -> dict[str, float]:
    """The Table 4 rates at a threshold taken from held-out normal images (the honest choice)."""
    rates = rates_at(scores, labels, quantile_threshold(val_scores, target))
    return {
        "val_threshold": rates.threshold,
        "val_gmean": rates.gmean,
        "val_false_alarm_rate": rates.false_alarm_rate,
        "val_miss_rate": rates.miss_rate,
    }


def diagnostics_by_label(diagnostics: dict[str, Tensor], labels: Tensor) -> dict[str, float]:
    """`<name>_normal` and `<name>_anomalous`: each per-image diagnostic's mean per group."""
    means = {}
    for name, values in diagnostics.items():
        for label, group in ((0, "normal"), (1, "anomalous")):
            means[f"{name}_{group}"] = values[labels == label].double().mean().item()
    return means
