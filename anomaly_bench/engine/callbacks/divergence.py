"""Stops a run whose training loss stops being a number, so a grid records why and moves on."""

from __future__ import annotations

import math

import lightning as L

TRAIN_PREFIX = "train/"


class DivergenceError(RuntimeError):
    """A training loss became NaN or infinite; the run's scores would mean nothing."""


class DivergenceGuard(L.Callback):
    """Raises DivergenceError at the first non-finite `train/*` value a model logged that it sees.

    Every method logs its losses under `train/`; checking what was logged (rather than each
    model's own tensors) keeps the guard the same for all of them. Reading a logged value back
    waits for the device, so the guard looks every `check_every_n_steps` training batches
    (default: the trainer's `log_every_n_steps`, when the loggers read them anyway) and at every
    epoch end, never inside the steps between. Models hand their losses over on the loggers'
    steps and an epoch's last batch only (`AnomalyModule.log_training`), so a look at another
    step sees the latest of those; a diverged GAN stays diverged, so a later look still catches
    it. Steps count training batches from 0 across epochs.
    """

    def __init__(self, check_every_n_steps: int | None = None) -> None:
        super().__init__()
        if check_every_n_steps is not None and (
            not isinstance(check_every_n_steps, int) or check_every_n_steps < 1
        ):
            raise ValueError(
                f"check_every_n_steps={check_every_n_steps!r} is not allowed; "
                "allowed: a positive integer, or null for the trainer's log_every_n_steps"
            )
        self.check_every_n_steps = check_every_n_steps

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if (trainer.fit_loop.total_batch_idx + 1) % self._every(trainer) == 0:
            self._check(trainer)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._check(trainer)

    def _every(self, trainer: L.Trainer) -> int:
        return self.check_every_n_steps or trainer.log_every_n_steps

    def _check(self, trainer: L.Trainer) -> None:
        for name, value in trainer.callback_metrics.items():
            if name.startswith(TRAIN_PREFIX) and not math.isfinite(float(value)):
                raise DivergenceError(
                    f"diverged by step {trainer.fit_loop.total_batch_idx} ({name}: "
                    f"{float(value)}; checked every {self._every(trainer)} steps and at epoch ends)"
                )
