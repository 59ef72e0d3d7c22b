"""The contract every method fulfils, and the evaluation steps written once for all of them."""

from __future__ import annotations

from abc import abstractmethod

from lightning import LightningModule
from torch import Tensor

from anomaly_bench.data.one_class import Batch


class AnomalyModule(LightningModule):
    """A detector: trains on normal images only, scores any image (higher = more anomalous).

    Subclasses provide their networks, `training_step`, `configure_optimizers` and
    `anomaly_score`. Scoring is shared here so that every method is evaluated the same way: in eval
    mode (Lightning switches it for validation and test), with the final, unnormalised score the
    metric callback sees. Models never compute metrics.
    """

    @abstractmethod
    def anomaly_score(self, images: Tensor) -> Tensor:
        """Scores [B] for images [B, C, H, W] in [-1, 1]."""

    def _score_batch(self, batch: Batch) -> dict[str, Tensor]:
        return {
            "scores": self.anomaly_score(batch.images),
            "labels": batch.labels,
            "classes": batch.classes,
        }

    def validation_step(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        return self._score_batch(batch)

    def test_step(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        return self._score_batch(batch)
