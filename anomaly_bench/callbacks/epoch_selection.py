"""The reference GANomaly code's choice, reproduced behind a labelled switch: keep the epoch
whose weights score best on the test set. It picks a hyperparameter (the epoch) on the test
data, so its figures are optimistic; rows that used it say `select_epoch_on_test: true`.
"""

from __future__ import annotations

import copy

import lightning as L
import torch

from anomaly_bench.callbacks.anomaly_metrics import detection_metrics
from anomaly_bench.models.base import AnomalyModule


class SelectEpochOnTest(L.Callback):
    """After each training epoch, score the whole test split; at the end of fit, restore the
    weights (and buffers) of the epoch with the best test AUROC."""

    def __init__(self) -> None:
        super().__init__()
        self.best_auroc = -1.0
        self.selected_epoch: int | None = None
        self._best_state: dict[str, torch.Tensor] | None = None

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: AnomalyModule) -> None:
        auroc = self._test_auroc(trainer, pl_module)
        if auroc > self.best_auroc:
            self.best_auroc, self.selected_epoch = auroc, trainer.current_epoch
            self._best_state = copy.deepcopy(pl_module.state_dict())

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._best_state is not None:
            pl_module.load_state_dict(self._best_state)

    @staticmethod
    def _test_auroc(trainer: L.Trainer, pl_module: AnomalyModule) -> float:
        was_training = pl_module.training
        pl_module.eval()
        scores, labels = [], []
        with torch.no_grad():
            pl_module.prepare_scoring()
            for batch in trainer.datamodule.test_dataloader():
                scores.append(pl_module.anomaly_score(batch.images.to(pl_module.device)).cpu())
                labels.append(batch.labels)
        pl_module.train(was_training)
        return detection_metrics(torch.cat(scores).double(), torch.cat(labels))["auroc"]
