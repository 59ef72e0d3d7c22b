"""A callback for tests that sends the process a signal at an exact training batch, so a test can
stop a run at the epoch boundary it needs instead of at wherever a timer happens to land."""

from __future__ import annotations

import os
import signal
from typing import Any

import lightning as L


class SignalAtBatch(L.Callback):
    """Sends `signum` to this process when batch `batch` of epoch `epoch` has been trained."""

    def __init__(self, epoch: int, batch: int, signum: int = int(signal.SIGTERM)) -> None:
        self.epoch, self.batch, self.signum = epoch, batch, signum

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, index: int
    ) -> None:
        if trainer.current_epoch == self.epoch and index == self.batch:
            os.kill(os.getpid(), self.signum)


class SignalAtTestBatch(L.Callback):
    """Sends `signum` to this process when test batch `batch` has been scored."""

    def __init__(self, batch: int, signum: int = int(signal.SIGTERM)) -> None:
        self.batch, self.signum = batch, signum

    def on_test_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        index: int,
        dataloader_idx: int = 0,
    ) -> None:
        if index == self.batch:
            os.kill(os.getpid(), self.signum)
