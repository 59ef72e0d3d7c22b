"""One metric callback for every method: AUROC, AUPRC and the paper's Table 4 rates.

Anomalies are the positive class. Scores are min-max scaled (the paper's eq. 9, order-preserving)
in float64 before torchmetrics sees them, because torchmetrics treats values outside [0, 1] as
logits and squashes them with a sigmoid, which in float32 turns large distinct scores into ties.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import WandbLogger
from torch import Tensor
from torchmetrics.functional.classification import binary_auroc, binary_average_precision

from anomaly_bench.models.base import DIAGNOSTIC_PREFIX
from anomaly_bench.plots import save_roc_curve, save_score_histogram

log = logging.getLogger(__name__)

SCORES_FILE = "scores.npz"


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


class ScoreCollector:
    """Scores, labels, classes (and any per-image diagnostics) of one loop, kept on the device
    until the loop ends."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Tensor]] = []

    def add(self, outputs: dict[str, Tensor]) -> None:
        self.parts.append({key: value.detach() for key, value in outputs.items()})

    def collect(self) -> dict[str, Tensor]:
        return {key: torch.cat([part[key] for part in self.parts]).cpu() for key in self.parts[0]}

    def __len__(self) -> int:
        return len(self.parts)


class AnomalyMetrics(L.Callback):
    """Collects every method's test scores and logs `test/<metric>`; saves scores and plots.

    The Youden threshold is chosen on the test set, as the paper does (`threshold_source` says so
    in `results`). When the data module holds out normal images (`val_fraction > 0`), the rates are
    also read at a threshold that flags `val_false_alarm_target` of them, which uses no test data.
    """

    def __init__(self, output_dir: str | Path, val_false_alarm_target: float = 0.05) -> None:
        super().__init__()
        if not 0.0 < val_false_alarm_target < 1.0:
            raise ValueError(
                f"val_false_alarm_target={val_false_alarm_target!r} is not allowed; "
                "it must be in (0, 1)"
            )
        self.output_dir = Path(output_dir)
        self.val_false_alarm_target = val_false_alarm_target
        self._test = ScoreCollector()
        self._val = ScoreCollector()
        self._last_val_scores: Tensor | None = None
        self.results: dict[str, float | str] = {}
        self.scores_path: Path | None = None

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._val = ScoreCollector()

    def on_validation_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0
    ) -> None:
        self._val.add(outputs)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if len(self._val) and not trainer.sanity_checking:
            self._last_val_scores = self._val.collect()["scores"]

    def on_test_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._test = ScoreCollector()

    def on_test_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0
    ) -> None:
        self._test.add(outputs)

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        collected = self._test.collect()
        scores, labels = collected["scores"].double(), collected["labels"]
        diagnostics = {
            key.removeprefix(DIAGNOSTIC_PREFIX): value
            for key, value in collected.items()
            if key.startswith(DIAGNOSTIC_PREFIX)
        }
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.scores_path = self.output_dir / SCORES_FILE
        np.savez_compressed(
            self.scores_path,
            **{key.replace("/", "_"): value.numpy() for key, value in collected.items()},
        )

        metrics = detection_metrics(scores, labels)
        if self._last_val_scores is not None and len(self._last_val_scores):
            metrics |= held_out_rates(
                scores, labels, self._last_val_scores.double(), self.val_false_alarm_target
            )
        pl_module.log_dict({f"test/{key}": value for key, value in metrics.items()})
        warnings = pl_module.diagnostic_warnings(diagnostics)
        for warning in warnings:
            log.warning("%s", warning)
        self.results = {
            **metrics,
            **diagnostics_by_label(diagnostics, labels),
            "threshold_source": "test_youden",
            # Fewer than the test split when trainer.limit_test_batches cuts the scoring short.
            "n_scored": len(labels),
            "n_scored_normal": int((labels == 0).sum()),
            **({"warnings": warnings} if warnings else {}),
        }
        self._save_plots(trainer, scores, labels, metrics)

    def _save_plots(
        self, trainer: L.Trainer, scores: Tensor, labels: Tensor, metrics: dict
    ) -> None:
        fpr, tpr, _ = roc_points(scores, labels)
        plots = {
            "test/roc_curve": save_roc_curve(
                fpr.numpy(), tpr.numpy(), metrics["auroc"], self.output_dir / "roc.png"
            ),
            "test/score_histogram": save_score_histogram(
                scores.numpy(),
                labels.numpy(),
                metrics["youden_threshold"],
                self.output_dir / "score_histogram.png",
            ),
        }
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                for key, path in plots.items():
                    logger.log_image(key=key, images=[str(path)])
