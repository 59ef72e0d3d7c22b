"""Isolation Forest (Liu et al., ICDM 2008) on flattened pixels, the seed paper's iForest baseline.

scikit-learn's IsolationForest with its defaults (100 trees, 256 samples per tree), seeded. As a
LightningModule it gathers the training images over the first epoch and fits at that epoch's end,
as anomalib does for its memory-bank models; later epochs, if configured, are skipped outright.

The fitted forest never goes into a checkpoint: a pickled forest would run whatever a crafted
checkpoint says when unpickled, and skops, the safe format for scikit-learn, does not trust a
tree's node arrays either (their unchecked indices read out of bounds). The checkpoint keeps only
how many images the forest was fitted on; a resumed or re-scored run refits it before scoring,
from the same images in the same order (the first epoch's order is a function of the seed) with
the same random_state, so it gets the same forest in a few seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.ensemble import IsolationForest
from torch import Tensor

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.base import AnomalyModule
from anomaly_bench.settings.checks import PositiveInt

FIT_IMAGES_KEY = "isolation_forest_fit_images"


def flatten_pixels(images: Tensor) -> np.ndarray:
    return images.flatten(1).float().cpu().numpy()


class Iforest(AnomalyModule):
    """Score = -score_samples(x): scikit-learn's score is higher for normal points."""

    def __init__(
        self,
        image_size: int = 32,
        in_channels: int = 1,
        n_estimators: PositiveInt = 100,
        max_samples: int | float | str = "auto",
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.automatic_optimization = False
        self.forest: IsolationForest | None = None
        self.fit_images: int | None = None
        self._gathered: list[np.ndarray] = []

    def configure_optimizers(self) -> None:
        """Nothing to optimise: the forest is fitted, not trained by gradients."""

    def on_train_batch_start(self, batch: Batch, batch_idx: int) -> int | None:
        """-1 tells Lightning to skip the rest of an epoch once the forest is fitted."""
        return -1 if self.fit_images is not None else None

    def training_step(self, batch: Batch, batch_idx: int) -> None:
        self._gathered.append(flatten_pixels(batch.images))

    def _fit(self, pixels: np.ndarray) -> None:
        forest = IsolationForest(
            n_estimators=self.hparams.n_estimators,
            max_samples=self.hparams.max_samples,
            random_state=self.hparams.seed,
        )
        self.forest, self.fit_images = forest.fit(pixels), len(pixels)

    def on_train_batch_end(self, outputs: Any, batch: Batch, batch_idx: int) -> None:
        """Fit once the epoch's last batch is gathered: before the epoch-end callbacks run (they
        run before the module's own epoch-end hook), so the epoch's `last.ckpt` already says how
        many images the forest was fitted on and a loaded checkpoint can refit it."""
        if self.fit_images is None and batch_idx == self.trainer.num_training_batches - 1:
            self._fit(np.concatenate(self._gathered))
            self._gathered = []

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        checkpoint[FIT_IMAGES_KEY] = self.fit_images

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Whatever else the file holds (an older checkpoint's pickled forest) is never read."""
        self.forest, self.fit_images = None, checkpoint.get(FIT_IMAGES_KEY)

    def prepare_scoring(self) -> None:
        """Refit after a checkpoint load: the first `fit_images` training images in the first
        epoch's order, as the original fit gathered them."""
        if self.forest is not None or self.fit_images is None:
            return
        batches, gathered = self.training_images(), 0
        pixels = []
        while gathered < self.fit_images:
            pixels.append(flatten_pixels(next(batches)))
            gathered += len(pixels[-1])
        self._fit(np.concatenate(pixels)[: self.fit_images])

    def export_refusal(self) -> str:
        return "its score is scikit-learn's isolation forest, not a torch graph"

    def anomaly_score(self, images: Tensor) -> Tensor:
        if self.forest is None:
            raise RuntimeError("the isolation forest is not fitted yet: train for one epoch first")
        scores = -self.forest.score_samples(flatten_pixels(images))
        return torch.from_numpy(scores).to(images.device)
