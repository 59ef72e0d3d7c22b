"""The contract every method fulfils (the optimiser factories it takes, the `AnomalyModule`
base, the batch it receives from the data layer), and the scoring step written once for all."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator

import torch
from lightning import LightningModule
from torch import Tensor
from torch.optim import Optimizer

from anomaly_bench.data.batches import Batch

# What a model's `optimizer` arguments are: parameters -> optimiser (a `_partial_` from the yaml).
OptimizerFactory = Callable[[Iterable], Optimizer]

# Keys of a scored batch that hold a per-image diagnostic rather than the score.
DIAGNOSTIC_PREFIX = "diagnostic/"


class AnomalyModule(LightningModule):
    """A detector: trains on normal images only, scores any image (higher = more anomalous).

    Subclasses provide their networks, `training_step`, `configure_optimizers` and
    `anomaly_score`. Scoring is shared here so that every method is evaluated the same way: in eval
    mode (Lightning switches it for validation and test) and in float32 (also when training ran
    under bf16 autocast), with the final, unnormalised score the metric callback sees. Models never
    compute metrics.
    """

    @abstractmethod
    def anomaly_score(self, images: Tensor) -> Tensor:
        """Scores [B] for images [B, C, H, W] in [-1, 1]."""

    def reconstruction(self, images: Tensor) -> Tensor | None:
        """The method's own picture of `images` as it learned normal images look ([B, C, H, W]
        in [-1, 1]), from which anomaly maps are drawn; None for a method without one in a
        forward pass (a latent search per image, a forest, a hypersphere)."""
        return None

    def log_training(self, values: dict[str, Tensor]) -> None:
        """A training step's losses, handed to Lightning only on the steps where something reads
        them: every step while a progress bar is shown, else the steps the loggers write
        (`trainer.log_every_n_steps`, as before) and an epoch's last batch (what callbacks see at
        its end). Lightning spends about ten tensor operations and a millisecond of Python on each
        logged value (Mem_GANomaly logs nine a step), and reads every progress-bar value back as
        a number after the step, bar drawn or not: on a GPU, whose small-network steps take
        13-29 ms, both hold up the queueing of the next step's kernels (docs/speed.md)."""
        trainer = self._trainer
        if trainer is None:
            return
        shown = trainer.progress_bar_callback is not None
        read = (
            trainer._logger_connector.should_update_logs
            or trainer.fit_loop.epoch_loop.batch_progress.is_last_batch
            or bool(trainer.fast_dev_run)
        )
        if shown or read:
            self.log_dict(values, prog_bar=shown)

    def export_refusal(self) -> str | None:
        """Why the score is not one graph of tensor operations that ONNX can hold; None when it
        is (the default: `anomaly_score` is a forward pass)."""
        return None

    def score_and_diagnostics(self, images: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """The scores and per-image values a method reports beside them ({name: [B]}), from one
        forward pass; the metric callback records each value's mean over normal and over
        anomalous test images. Most methods report none."""
        return self.anomaly_score(images), {}

    def diagnostic_warnings(self, diagnostics: dict[str, Tensor]) -> list[str]:
        """Warnings about the trained model read off the whole test split's diagnostics (a
        collapsed memory); the run still ends `ok`, and its row carries them."""
        return []

    # The data scoring outside a Trainer fits its statistics on (`use_training_data`).
    _training_data = None

    def use_training_data(self, datamodule: object) -> None:
        """Score outside a Trainer (a trained model scoring new images): `prepare_scoring` reads
        the training images from this datamodule."""
        self._training_data = datamodule

    def training_images(self) -> Iterator[Tensor]:
        """The datamodule's training images, batch by batch, on this module's device.

        For statistics a method fits on the training set outside its training steps (a critic's
        mean, a GMM, a centre, a normalisation range).
        """
        datamodule = self._training_data or getattr(self._trainer, "datamodule", None)
        if datamodule is None:
            raise ValueError(
                f"{type(self).__name__} needs the training images outside its training steps: "
                "pass a datamodule to the Trainer (trainer.fit(model, datamodule=...))"
            )
        for batch in datamodule.train_dataloader():
            yield batch.images.to(self.device)

    def prepare_scoring(self) -> None:
        """Fit what the score needs from the training set (a critic's mean, a GMM), with the
        weights about to be evaluated. Runs before every validation and test; most methods need
        nothing."""

    def on_validation_start(self) -> None:
        self.prepare_scoring()

    def on_test_start(self) -> None:
        self.prepare_scoring()

    @property
    def first_stage_epochs(self) -> int:
        """Epochs a two-stage method trains before its anomaly score reads what it trained (an
        f-AnoGAN's encoder, a Deep SVDD's centre): a score taken earlier is the untrained part's,
        so the learning curve reads no point there. 0 for a one-stage method."""
        return 0

    def check_epochs_after(self, key: str, second_stage: str) -> None:
        """Refuse a two-stage budget that leaves the second stage no epoch (`key`: the model
        setting that holds `first_stage_epochs`).

        fast_dev_run is let through: it only smoke-tests one batch of the first stage.
        """
        max_epochs, first_stage_epochs = self.trainer.max_epochs, self.first_stage_epochs
        bounded = max_epochs is not None and max_epochs >= 0
        if bounded and not self.trainer.fast_dev_run and max_epochs <= first_stage_epochs:
            raise ValueError(
                f"trainer.max_epochs={max_epochs} leaves no epoch for {second_stage}: "
                f"{type(self).__name__} spends model.{key}={first_stage_epochs} epochs before "
                f"it; allowed: trainer.max_epochs > model.{key}"
            )

    def score_batch(self, batch: Batch) -> dict[str, Tensor]:
        # Scored in float32 whatever the training precision: under bf16 autocast a score keeps
        # three significant digits, and thousands of test images would tie.
        with torch.autocast(self.device.type, enabled=False):
            scores, diagnostics = self.score_and_diagnostics(batch.images)
        return {
            "scores": scores,
            "labels": batch.labels,
            "classes": batch.classes,
            **{f"{DIAGNOSTIC_PREFIX}{name}": value for name, value in diagnostics.items()},
        }

    def validation_step(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        return self.score_batch(batch)

    def test_step(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        return self.score_batch(batch)
