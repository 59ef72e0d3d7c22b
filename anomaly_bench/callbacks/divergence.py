"""Stops a run whose training loss stops being a number, so a grid records why and moves on."""

from __future__ import annotations

import math

import lightning as L

TRAIN_PREFIX = "train/"


class DivergenceError(RuntimeError):
    """A training loss became NaN or infinite; the run's scores would mean nothing."""


class DivergenceGuard(L.Callback):
    """Raises DivergenceError at the first non-finite `train/*` value a model logged.

    Every method logs its losses under `train/`; checking what was logged (rather than each
    model's own tensors) keeps the guard the same for all of them. Step N is the training batch
    counted from 0 across epochs. The check reads the logged values back from the device, one
    sync per batch, which the models' own `log` calls already pay.
    """

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        for name, value in trainer.callback_metrics.items():
            if name.startswith(TRAIN_PREFIX) and not math.isfinite(float(value)):
                raise DivergenceError(
                    f"diverged at step {trainer.fit_loop.total_batch_idx} ({name}): {float(value)}"
                )
