"""The reference GANomaly code's choice, reproduced behind a labelled switch: keep the epoch
whose weights score best on the test set. It picks a hyperparameter (the epoch) on the test
data, so its figures are optimistic; rows that used it say `select_epoch_on_test: true`.
"""

from __future__ import annotations

import lightning as L
import torch

from anomaly_bench.engine.callbacks.last_checkpoint import signal_check
from anomaly_bench.evaluation.metrics import detection_metrics
from anomaly_bench.evaluation.scoring import score_split
from anomaly_bench.models.base import AnomalyModule


def copy_state(module: L.LightningModule) -> dict[str, torch.Tensor]:
    """A detached CPU copy of the module's weights and buffers, to put back later."""
    return {key: value.detach().cpu().clone() for key, value in module.state_dict().items()}


def test_split_metrics(trainer: L.Trainer, pl_module: AnomalyModule) -> dict[str, float]:
    """The current weights' metrics on the whole test split, scored as the final test is."""
    scored = score_split(pl_module, trainer.datamodule.test_dataloader(), signal_check(trainer))
    return detection_metrics(scored["scores"].double(), scored["labels"]) | {
        "n_scored": len(scored["labels"])
    }


class SelectEpochOnTest(L.Callback):
    """After each training epoch, score the whole test split; at the end of fit, restore the
    weights (and buffers) of the epoch with the best test AUROC."""

    def __init__(self) -> None:
        super().__init__()
        self.best_auroc = -1.0
        self.selected_epoch: int | None = None
        self._best_state: dict[str, torch.Tensor] | None = None

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: AnomalyModule) -> None:
        auroc = test_split_metrics(trainer, pl_module)["auroc"]
        if auroc > self.best_auroc:
            self.best_auroc, self.selected_epoch = auroc, trainer.current_epoch
            self._best_state = copy_state(pl_module)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self._best_state is not None:
            pl_module.load_state_dict(self._best_state)
