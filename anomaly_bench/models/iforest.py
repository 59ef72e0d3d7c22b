"""Isolation Forest (Liu et al., ICDM 2008) on flattened pixels, the seed paper's iForest baseline.

scikit-learn's IsolationForest with its defaults (100 trees, 256 samples per tree), seeded. As a
LightningModule it gathers the training images over the first epoch and fits at that epoch's end,
as anomalib does for its memory-bank models; later epochs, if configured, are skipped outright.
"""

from __future__ import annotations

import pickle
from typing import Any

import numpy as np
import torch
from sklearn.ensemble import IsolationForest
from torch import Tensor

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.base import AnomalyModule

FOREST_KEY = "isolation_forest"


def flatten_pixels(images: Tensor) -> np.ndarray:
    return images.flatten(1).float().cpu().numpy()


class Iforest(AnomalyModule):
    """Score = -score_samples(x): scikit-learn's score is higher for normal points."""

    def __init__(
        self,
        image_size: int = 32,
        in_channels: int = 1,
        n_estimators: int = 100,
        max_samples: int | float | str = "auto",
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.forest: IsolationForest | None = None
        self._gathered: list[np.ndarray] = []

    def configure_optimizers(self) -> None:
        """Nothing to optimise: the forest is fitted, not trained by gradients."""

    def on_train_batch_start(self, batch: Batch, batch_idx: int) -> int | None:
        """-1 tells Lightning to skip the rest of an epoch once the forest is fitted."""
        return -1 if self.forest is not None else None

    def training_step(self, batch: Batch, batch_idx: int) -> None:
        self._gathered.append(flatten_pixels(batch.images))

    def on_train_epoch_end(self) -> None:
        if self.forest is not None:
            return
        forest = IsolationForest(
            n_estimators=self.hparams.n_estimators,
            max_samples=self.hparams.max_samples,
            random_state=self.hparams.seed,
        )
        self.forest = forest.fit(np.concatenate(self._gathered))
        self._gathered = []

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """The forest is no tensor: it travels pickled, as bytes, which weights_only loads allow."""
        checkpoint[FOREST_KEY] = pickle.dumps(self.forest)

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Unpickles what on_save_checkpoint wrote: load only checkpoints you trust."""
        self.forest = pickle.loads(checkpoint[FOREST_KEY])

    def anomaly_score(self, images: Tensor) -> Tensor:
        if self.forest is None:
            raise RuntimeError("the isolation forest is not fitted yet: train for one epoch first")
        scores = -self.forest.score_samples(flatten_pixels(images))
        return torch.from_numpy(scores).to(images.device)
