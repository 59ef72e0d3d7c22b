"""`last.ckpt` after every training epoch, the file a killed or interrupted run resumes from.

Lightning's ModelCheckpoint (2.6) writes `last.ckpt` only in an epoch where it also saved a top-k
checkpoint, so with `save_top_k: 0` it wrote one only at the very end, and a run killed
mid-training had nothing to resume from. This writes it at every epoch end instead, into a
temporary file renamed over the old one, so a kill during the write leaves the previous
checkpoint whole.
"""

from __future__ import annotations

import os
from pathlib import Path

import lightning as L
from lightning.pytorch.callbacks import Checkpoint

LAST = "last.ckpt"


class LastCheckpoint(Checkpoint):
    """Subclassing `Checkpoint` makes Lightning run it after every other callback's epoch end,
    so the state it saves (a learning curve's points included) is the epoch's final one."""

    def __init__(self, dirpath: str | Path) -> None:
        super().__init__()
        self.dirpath = Path(dirpath)

    @property
    def path(self) -> Path:
        return self.dirpath / LAST

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.fast_dev_run or trainer.sanity_checking:
            return
        self.dirpath.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{LAST}.partial")
        trainer.save_checkpoint(partial)
        os.replace(partial, self.path)
