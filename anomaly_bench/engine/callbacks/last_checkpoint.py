"""`last.ckpt`, the file a killed or interrupted run resumes from: after every training epoch,
and at once when the run is told to stop (SIGTERM from a scheduler or `scancel`, SIGINT).

Lightning's ModelCheckpoint (2.6) writes `last.ckpt` only in an epoch where it also saved a top-k
checkpoint, so with `save_top_k: 0` it wrote one only at the very end, and a run killed
mid-training had nothing to resume from. This writes it at every epoch end instead, into a
temporary file renamed over the old one, so a kill during the write leaves the previous
checkpoint whole. On SIGTERM Lightning stops at the next batch boundary; the checkpoint written
then also holds how far into the epoch the run was and the random state, so a rerun trains
exactly the batches that were left, with the same random numbers, and ends with the weights an
uninterrupted run would have. A signal that lands in an epoch's last batch stops the run only
after the epoch's end, whose checkpoint is then already the place to resume from: it is kept,
since Lightning's batch counter still holds the finished epoch's count at that point. SIGINT
(Ctrl+C) is deferred the same way, to the start of the next batch, so no optimiser step is cut
in half. Scoring passes between batches (a learning-curve point) call `raise_if_signalled`
before each of their batches; a run stopped in an epoch's end keeps the previous epoch's
checkpoint and trains that epoch again on the rerun. In the test pass nothing is written: the
last epoch's checkpoint is already where the rerun starts.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Checkpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

from anomaly_bench.data.loaders import EpochShuffle
from anomaly_bench.settings.whole_files import written_whole
from anomaly_bench.store.row_schema import INTERRUPTED

LAST = "last.ckpt"


@dataclass(frozen=True)
class Interruption:
    """Which signal stopped the run, where, and the checkpoint to resume from."""

    signal: signal.Signals
    epoch: int
    step: int
    checkpoint: Path
    testing: bool = False

    def __str__(self) -> str:
        phase = " in the test pass (training had finished)" if self.testing else ""
        return (
            f"{INTERRUPTED}{self.signal.name} at epoch {self.epoch}, step {self.step}{phase}; "
            f"checkpoint {self.checkpoint}; rerun the same command to resume"
        )


class TerminatedError(BaseException):
    """A run stopped by a signal; the process should exit with 128 + the signal's number."""

    def __init__(self, interruption: Interruption) -> None:
        super().__init__(str(interruption))
        self.interruption = interruption

    @property
    def exit_status(self) -> int:
        return 128 + int(self.interruption.signal)


def _random_state() -> dict[str, Any]:
    state: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def _set_random_state(state: dict[str, Any]) -> None:
    torch.set_rng_state(state["cpu"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


class LastCheckpoint(Checkpoint):
    """Subclassing `Checkpoint` makes Lightning run its epoch end after every other callback's
    and the module's own, so what it saves (a fitted forest's size, a curve's points) is the
    epoch's final state."""

    def __init__(self, dirpath: str | Path) -> None:
        super().__init__()
        self.dirpath = Path(dirpath)
        self.interruption: Interruption | None = None
        self._position: tuple[int, int] = (0, 0)  # (epoch, images of it already trained on)
        self._trained_since_save = False
        self._restored: dict[str, Any] | None = None
        self._sigint_received = False
        self._previous_sigint: Any = None

    @property
    def path(self) -> Path:
        return self.dirpath / LAST

    def _save(self, trainer: L.Trainer, position: tuple[int, int]) -> None:
        self._position = position
        with written_whole(self.path) as partial:
            trainer.save_checkpoint(partial, weights_only=False)
        self._trained_since_save = False

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, index: int
    ) -> None:
        self._trained_since_save = True

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.fast_dev_run or trainer.sanity_checking:
            return
        self._save(trainer, (trainer.current_epoch + 1, 0))

    def on_exception(
        self, trainer: L.Trainer, pl_module: L.LightningModule, exception: BaseException
    ) -> None:
        if isinstance(exception, SIGTERMException):
            received = signal.SIGTERM
        elif isinstance(exception, KeyboardInterrupt):
            received = signal.SIGINT
        else:
            return
        if trainer.fast_dev_run:
            return
        batches = trainer.fit_loop.epoch_loop.batch_progress.current.completed
        # Stopped inside an epoch's end (a learning-curve point scoring for minutes) after its
        # last batch: the previous epoch's checkpoint stays the place to resume from, and the
        # rerun trains the epoch again, to the same weights, and ends it whole.
        in_epoch_end = batches >= trainer.num_training_batches
        unsaved = self._trained_since_save or not self.path.exists()
        if unsaved and not (trainer.testing or in_epoch_end):
            loader = trainer.train_dataloader
            self._save(trainer, (trainer.current_epoch, batches * loader.batch_size))
        self.interruption = Interruption(
            received, trainer.current_epoch, trainer.global_step, self.path, trainer.testing
        )

    def state_dict(self) -> dict[str, Any]:
        epoch, images = self._position
        return {"epoch": epoch, "images_done": images, "random_state": _random_state()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._restored = state_dict

    def raise_if_signalled(self, trainer: L.Trainer) -> None:
        """Act now on a signal received since the last batch boundary: for loops of a callback
        (a learning-curve point, a test-set epoch choice) that score for minutes between two
        training batches, where Lightning would only look at the next one."""
        if trainer.received_sigterm:
            raise SIGTERMException
        if self._sigint_received:
            raise KeyboardInterrupt

    def _defer_sigint(self, signum: int, frame: Any) -> None:
        self._sigint_received = True

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        if self._sigint_received:
            raise KeyboardInterrupt

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._restore_sigint()

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._restore_sigint()

    def _restore_sigint(self) -> None:
        if self._previous_sigint is not None:
            signal.signal(signal.SIGINT, self._previous_sigint)
            self._previous_sigint = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        """Defer SIGINT to the next batch boundary; after a resume, restore the random state and
        the place in the epoch the checkpoint had."""
        self._sigint_received = False
        if threading.current_thread() is threading.main_thread():
            self._previous_sigint = signal.signal(signal.SIGINT, self._defer_sigint)
        if self._restored is None:
            return
        _set_random_state(self._restored["random_state"])
        sampler = getattr(trainer.train_dataloader, "sampler", None)
        if isinstance(sampler, EpochShuffle) and self._restored["images_done"]:
            sampler.resume_at(self._restored["epoch"], self._restored["images_done"])
        self._restored = None


def signal_check(trainer: L.Trainer) -> Callable[[], None] | None:
    """The trainer's `LastCheckpoint.raise_if_signalled`, for a scoring loop to call before each
    batch; None for a trainer without one (a callback tried on its own)."""
    last = next((c for c in trainer.checkpoint_callbacks if isinstance(c, LastCheckpoint)), None)
    return partial(last.raise_if_signalled, trainer) if last is not None else None
