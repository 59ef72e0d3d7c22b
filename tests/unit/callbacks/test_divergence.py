import math

import pytest
import torch
from torch import nn

from anomaly_bench.engine.callbacks import DivergenceError, DivergenceGuard
from anomaly_bench.models.base import AnomalyModule
from tests.unit.models.helpers import quiet_trainer, synthetic_data


class BlowsUp(AnomalyModule):
    """A linear model whose logged loss becomes NaN at a chosen training batch."""

    def __init__(self, nan_at: int | None) -> None:
        super().__init__()
        self.nan_at = nan_at
        self.weight = nn.Parameter(torch.zeros(1))

    def training_step(self, batch, batch_idx):
        loss = (self.weight - 1).pow(2).sum()
        if self.trainer.fit_loop.total_batch_idx == self.nan_at:
            loss = loss * math.nan
        self.log("train/loss", loss)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)

    def anomaly_score(self, images):
        return images.flatten(1).mean(dim=1)


def test_a_nan_loss_stops_the_run_naming_the_step_and_the_loss():
    trainer = quiet_trainer(max_epochs=3, callbacks=[DivergenceGuard(check_every_n_steps=1)])
    with pytest.raises(DivergenceError, match=r"diverged by step 4 \(train/loss: nan"):
        trainer.fit(BlowsUp(nan_at=4), datamodule=synthetic_data())
    assert trainer.current_epoch == 1  # batch 4 is the second of epoch 1 (3 batches per epoch)


def test_between_looks_a_nan_is_caught_at_the_epoch_end():
    """Every 10 steps and 3 batches per epoch: step 3's NaN is seen at epoch 1's end (step 5)."""
    trainer = quiet_trainer(max_epochs=3, log_every_n_steps=10, callbacks=[DivergenceGuard()])
    with pytest.raises(DivergenceError, match=r"by step 5 .*checked every 10 steps"):
        trainer.fit(BlowsUp(nan_at=3), datamodule=synthetic_data())


def test_a_bad_cadence_is_refused_by_name():
    with pytest.raises(ValueError, match="check_every_n_steps=0"):
        DivergenceGuard(check_every_n_steps=0)


def test_finite_losses_pass():
    trainer = quiet_trainer(max_epochs=2, callbacks=[DivergenceGuard()])
    trainer.fit(BlowsUp(nan_at=None), datamodule=synthetic_data())
    assert trainer.current_epoch == 2
