"""Counts the training images a run actually saw, for its images-per-second figure."""

from __future__ import annotations

import lightning as L


class TrainingImageCounter(L.Callback):
    """Images seen in training steps (fast_dev_run and limit_train_batches included)."""

    def __init__(self) -> None:
        super().__init__()
        self.images = 0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.images += len(batch.images)
