"""AUROC on the test split during training, to see whether a budget was enough and how much a
reported number owes to the epoch it was read at.

Off by default (`callbacks.learning_curve.every_n_epochs=K` turns it on). It only looks: scoring
goes through `AnomalyModule.score_split` (the final test's path, float32, eval mode) with the
random state forked, so the weights a run ends with, and its final row, are the same with or
without a curve. Picking the best point of a curve is choosing an epoch on the test set: the
report shows it beside the last-epoch value, labelled, and never instead of it.
"""

from __future__ import annotations

import time
from typing import Any

import lightning as L

from anomaly_bench.callbacks.epoch_selection import test_split_metrics
from anomaly_bench.models.base import AnomalyModule


class LearningCurve(L.Callback):
    """After every `every_n_epochs`-th training epoch, one point: epochs done, test AUROC, images
    scored, training seconds so far (the curve's own scoring left out) and that point's scoring
    seconds. The points travel in checkpoints, so a resumed run keeps its curve."""

    def __init__(self, every_n_epochs: int = 0) -> None:
        super().__init__()
        if (
            not isinstance(every_n_epochs, int)
            or isinstance(every_n_epochs, bool)
            or (every_n_epochs < 0)
        ):
            raise ValueError(
                f"callbacks.learning_curve.every_n_epochs={every_n_epochs!r} is not allowed; "
                "allowed: 0 (off) or a positive integer"
            )
        self.every_n_epochs = every_n_epochs
        self.points: list[dict[str, Any]] = []
        self.train_seconds = 0.0
        self._epoch_started = 0.0

    @property
    def enabled(self) -> bool:
        return self.every_n_epochs > 0

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: AnomalyModule) -> None:
        self._epoch_started = time.perf_counter()

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: AnomalyModule) -> None:
        self.train_seconds += time.perf_counter() - self._epoch_started
        epochs_done = trainer.current_epoch + 1
        if not self.enabled or trainer.fast_dev_run or epochs_done % self.every_n_epochs:
            return
        started = time.perf_counter()
        metrics = test_split_metrics(trainer, pl_module)
        point = {
            "epoch": epochs_done,
            "auroc": metrics["auroc"],
            "n_scored": metrics["n_scored"],
            "train_seconds": round(self.train_seconds, 3),
            "score_seconds": round(time.perf_counter() - started, 3),
        }
        self.points.append(point)
        pl_module.log_dict(
            {"curve/auroc": point["auroc"], "curve/train_seconds": point["train_seconds"]}
        )

    def state_dict(self) -> dict[str, Any]:
        return {"points": self.points, "train_seconds": self.train_seconds}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.points = list(state_dict["points"])
        self.train_seconds = float(state_dict["train_seconds"])
