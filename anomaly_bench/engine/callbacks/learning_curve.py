"""AUROC during training, to see whether a budget was enough and how much a reported number owes
to the epoch it was read at.

Off by default (`callbacks.learning_curve.every_n_epochs=K` turns it on). Each point is read on a
fixed subsample of the test split (`subsample` images, `data/subsample.py`; null reads the whole
split), and the weights of two epochs are kept while training: the one with the best point (what
a best-test-epoch protocol, the reference GANomaly code's, would report) and, when normal images
are held out (`data.val_fraction > 0`), the one whose held-out normals score lowest on average (a
choice that sees no anomaly and no test image). After training each kept epoch's weights are
scored once on the whole test split, so the figures a row reports for them are full-split AUROCs;
the epoch itself was chosen on the subsample. A run with a single epoch to read (iForest's one
fit) gets no curve: there is no epoch to choose.

It only looks: scoring goes through `evaluation.scoring.score_split` (the final test's path,
float32, eval mode) with the random state forked, and the final weights are put back after the
kept ones are scored, so the weights a run ends with, and its headline AUROC, are the same with
or without a curve.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import lightning as L

from anomaly_bench.engine.callbacks.epoch_selection import copy_state, test_split_metrics
from anomaly_bench.engine.callbacks.last_checkpoint import signal_check
from anomaly_bench.evaluation.metrics import detection_metrics
from anomaly_bench.evaluation.scoring import score_split
from anomaly_bench.models.base import AnomalyModule

# Which epochs a curve keeps: the rule's name in the row -> (the point's value it reads, and
# whether a new value beats the kept one; ties keep the earlier epoch).
EPOCH_RULES: dict[str, tuple[str, Callable[[float, float], bool]]] = {
    "best_test_epoch": ("auroc", lambda new, kept: new > kept),
    "lowest_normal_val_score": ("normal_val_score", lambda new, kept: new < kept),
}


def reads_point(epoch: int, max_epochs: int | None, first_stage: int, every: int) -> bool:
    """Whether the curve reads a point after `epoch` (counted from 1): every `every`-th epoch
    past a two-stage method's first stage, in a run that trains its score for more than one
    epoch. A run of one epoch past its first stage (iForest's single fit, a one-epoch demo)
    would only read its final test twice, at the price of a scoring pass, and show a "best
    epoch" that is no choice at all. The GPU queue counts a run's points with the same rule."""
    unbounded = max_epochs is None or max_epochs < 0
    choosable = unbounded or max_epochs - first_stage > 1
    return every > 0 and choosable and epoch % every == 0 and epoch > first_stage


class LearningCurve(L.Callback):
    """After every `every_n_epochs`-th training epoch past a two-stage method's first stage
    (`AnomalyModule.first_stage_epochs`: its score reads an untrained part until then, so such a
    point would cost a full scoring and say nothing), one point: epochs done, AUROC on the
    subsample, images scored, mean score of the held-out normals (when there are some), training
    seconds so far (the curve's own scoring left out) and that point's scoring seconds. Points
    and kept weights travel in checkpoints, so a resumed run keeps its curve."""

    def __init__(
        self, every_n_epochs: int = 0, subsample: int | None = None, subsample_seed: int = 0
    ) -> None:
        super().__init__()
        if (
            not isinstance(every_n_epochs, int)
            or isinstance(every_n_epochs, bool)
            or (every_n_epochs < 0)
        ):
            raise ValueError(
                f"callbacks.learning_curve.every_n_epochs={every_n_epochs!r} is not allowed; "
                "allowed: 0 (off) or a positive integer"
            )
        if subsample is not None and (
            not isinstance(subsample, int) or isinstance(subsample, bool) or subsample < 2
        ):
            raise ValueError(
                f"callbacks.learning_curve.subsample={subsample!r} is not allowed; "
                "allowed: null (the whole test split) or an integer >= 2"
            )
        self.every_n_epochs = every_n_epochs
        self.subsample, self.subsample_seed = subsample, subsample_seed
        self.points: list[dict[str, Any]] = []
        self.kept: dict[str, dict[str, Any]] = {}
        self.epoch_choices: dict[str, dict[str, Any]] = {}
        self.train_seconds = 0.0
        self._epoch_started: float | None = None
        self._points_loader = None

    @property
    def enabled(self) -> bool:
        return self.every_n_epochs > 0

    def on_train_start(self, trainer: L.Trainer, pl_module: AnomalyModule) -> None:
        # A run resumed in the middle of an epoch gets no on_train_epoch_start for that epoch:
        # its clock starts here (the part before the kill came back in `train_seconds`).
        self._epoch_started = time.perf_counter()

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: AnomalyModule) -> None:
        self._epoch_started = time.perf_counter()

    def _epoch_seconds(self) -> float:
        """Training seconds of the epoch under way in this process (0 between epochs)."""
        return 0.0 if self._epoch_started is None else time.perf_counter() - self._epoch_started

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: AnomalyModule) -> None:
        self.train_seconds += self._epoch_seconds()
        self._epoch_started = None
        epochs_done = trainer.current_epoch + 1
        if (
            not self.enabled
            or trainer.fast_dev_run
            or not reads_point(
                epochs_done, trainer.max_epochs, pl_module.first_stage_epochs, self.every_n_epochs
            )
        ):
            return
        started = time.perf_counter()
        point = {"epoch": epochs_done, **self._read_point(trainer, pl_module)}
        point |= {
            "train_seconds": round(self.train_seconds, 3),
            "score_seconds": round(time.perf_counter() - started, 3),
        }
        self.points.append(point)
        for rule, (key, beats) in EPOCH_RULES.items():
            kept = self.kept.get(rule)
            if key in point and (kept is None or beats(point[key], kept["value"])):
                self.kept[rule] = {
                    "epoch": epochs_done,
                    "value": point[key],
                    "state": copy_state(pl_module),
                }
        pl_module.log_dict(
            {"curve/auroc": point["auroc"], "curve/train_seconds": point["train_seconds"]}
        )

    def _read_point(self, trainer: L.Trainer, pl_module: AnomalyModule) -> dict[str, Any]:
        datamodule = trainer.datamodule
        if self._points_loader is None:
            self._points_loader = datamodule.test_subsample_dataloader(
                self.subsample, self.subsample_seed
            )
        stop = signal_check(trainer)
        scored = score_split(pl_module, self._points_loader, stop)
        point = {
            "auroc": detection_metrics(scored["scores"].double(), scored["labels"])["auroc"],
            "n_scored": len(scored["labels"]),
        }
        if datamodule.n_val:
            held_out = score_split(pl_module, datamodule.val_dataloader(), stop)["scores"].double()
            point["normal_val_score"] = float(held_out.mean())
        return point

    def on_fit_end(self, trainer: L.Trainer, pl_module: AnomalyModule) -> None:
        """Score each kept epoch's weights on the whole test split (an epoch that is the last
        one is left to the final test, which scores the same weights), then put the final
        weights back."""
        if not self.kept or trainer.fast_dev_run:
            return
        final = copy_state(pl_module)
        last_epoch = trainer.current_epoch
        by_epoch: dict[int, dict[str, Any]] = {}
        try:
            for rule, kept in self.kept.items():
                epoch = kept["epoch"]
                if epoch not in by_epoch:
                    by_epoch[epoch] = {"auroc": None, "score_seconds": 0.0}
                    if epoch != last_epoch:
                        started = time.perf_counter()
                        pl_module.load_state_dict(kept["state"])
                        by_epoch[epoch] = {
                            "auroc": test_split_metrics(trainer, pl_module)["auroc"],
                            "score_seconds": round(time.perf_counter() - started, 3),
                        }
                self.epoch_choices[rule] = {
                    "epoch": epoch,
                    "curve_value": kept["value"],
                    **by_epoch[epoch],
                }
        finally:
            pl_module.load_state_dict(final)

    def row_fields(self, last_auroc: float) -> dict[str, Any]:
        """What the run's row records of the curve; a kept epoch that is the last one takes the
        final test's AUROC (the same weights on the same split)."""
        if not self.points:
            return {}
        choices = {
            rule: choice | ({"auroc": last_auroc} if choice["auroc"] is None else {})
            for rule, choice in self.epoch_choices.items()
        }
        return {
            "learning_curve": self.points,
            "curve_subsample": self.subsample,
            "epoch_choices": choices,
        }

    def state_dict(self) -> dict[str, Any]:
        # A checkpoint taken mid-epoch (a killed run) keeps the epoch's seconds so far.
        seconds = self.train_seconds + self._epoch_seconds()
        return {"points": self.points, "train_seconds": seconds, "kept": self.kept}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.points = list(state_dict["points"])
        self.train_seconds = float(state_dict["train_seconds"])
        self.kept = dict(state_dict.get("kept", {}))
