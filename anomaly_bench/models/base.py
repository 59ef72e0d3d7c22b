"""The contract every method fulfils (the batch it receives, the optimiser factories it takes,
the `AnomalyModule` base), and the evaluation steps written once for all of them."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import NamedTuple

import torch
from lightning import LightningModule
from torch import Tensor
from torch.optim import Optimizer


class Batch(NamedTuple):
    """Images in [-1, 1], anomaly labels (1 = anomalous) and the original class of each image."""

    images: Tensor
    labels: Tensor
    classes: Tensor


# What a model's `optimizer` arguments are: parameters -> optimiser (a `_partial_` from the yaml).
OptimizerFactory = Callable[[Iterable], Optimizer]

# The model keys with which a two-stage method states its first stage's epochs (f-AnoGAN's GAN,
# Deep SVDD's autoencoder pretraining); the benchmark, the results page and the tests read them.
FIRST_STAGE_KEYS = ("gan_epochs", "pretrain_epochs")


def first_stage_key(model: Mapping) -> str | None:
    """The key of `model`'s config that holds its first stage's epochs; None for one stage."""
    return next((key for key in FIRST_STAGE_KEYS if key in model), None)


class ScoreCollector:
    """Scores, labels, classes (and any per-image diagnostics) of one loop (`_score_batch`'s
    outputs), kept on the device until the loop ends."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Tensor]] = []

    def add(self, outputs: dict[str, Tensor]) -> None:
        self.parts.append({key: value.detach() for key, value in outputs.items()})

    def collect(self) -> dict[str, Tensor]:
        return {key: torch.cat([part[key] for part in self.parts]).cpu() for key in self.parts[0]}

    def __len__(self) -> int:
        return len(self.parts)


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

    def score_and_diagnostics(self, images: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """The scores and per-image values a method reports beside them ({name: [B]}), from one
        forward pass; the metric callback records each value's mean over normal and over
        anomalous test images. Most methods report none."""
        return self.anomaly_score(images), {}

    def diagnostic_warnings(self, diagnostics: dict[str, Tensor]) -> list[str]:
        """Warnings about the trained model read off the whole test split's diagnostics (a
        collapsed memory); the run still ends `ok`, and its row carries them."""
        return []

    def training_images(self) -> Iterator[Tensor]:
        """The datamodule's training images, batch by batch, on this module's device.

        For statistics a method fits on the training set outside its training steps (a critic's
        mean, a GMM, a centre, a normalisation range).
        """
        datamodule = getattr(self.trainer, "datamodule", None)
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

    def check_epochs_after(self, first_stage_epochs: int, key: str, second_stage: str) -> None:
        """Refuse a two-stage budget that leaves the second stage no epoch.

        fast_dev_run is let through: it only smoke-tests one batch of the first stage.
        """
        max_epochs = self.trainer.max_epochs
        bounded = max_epochs is not None and max_epochs >= 0
        if bounded and not self.trainer.fast_dev_run and max_epochs <= first_stage_epochs:
            raise ValueError(
                f"trainer.max_epochs={max_epochs} leaves no epoch for {second_stage}: "
                f"{type(self).__name__} spends model.{key}={first_stage_epochs} epochs before "
                f"it; allowed: trainer.max_epochs > model.{key}"
            )

    def _score_batch(self, batch: Batch) -> dict[str, Tensor]:
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

    def score_split(self, batches: Iterable[Batch]) -> dict[str, Tensor]:
        """Score every batch as the test loop does, from inside training (a learning curve, a
        test-set epoch choice): eval mode, no gradients, `prepare_scoring` first, the same
        float32 `_score_batch`. Training mode and the random state are left as they were, so
        scoring mid-training never changes the weights training ends with.
        """
        was_training = self.training
        devices = [self.device] if self.device.type == "cuda" else []
        collected = ScoreCollector()
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            self.eval()
            try:
                self.prepare_scoring()
                for batch in batches:
                    on_device = Batch(*(part.to(self.device) for part in batch))
                    collected.add(self._score_batch(on_device))
            finally:
                self.train(was_training)
        return collected.collect()

    def validation_step(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        return self._score_batch(batch)

    def test_step(self, batch: Batch, batch_idx: int) -> dict[str, Tensor]:
        return self._score_batch(batch)
