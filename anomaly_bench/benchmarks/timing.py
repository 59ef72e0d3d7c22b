"""Clocks and memory gauges shared by every benchmark."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

import lightning as L
import torch


def synchronize(device: torch.device) -> None:
    """Wait for queued GPU work, so a clock read means the work is done."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def images_per_second(work: Callable[[], object], n_images: int, device: torch.device) -> float:
    """Throughput of `work` over `n_images`, timed after one untimed warm-up call."""
    work()
    synchronize(device)
    started = time.perf_counter()
    work()
    synchronize(device)
    return n_images / (time.perf_counter() - started)


def peak_memory_mb(device: torch.device) -> dict[str, float | None]:
    """This process's peak resident memory, and the peak GPU memory torch allocated."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
    gpu = torch.cuda.max_memory_allocated(device) / 2**20 if device.type == "cuda" else None
    return {"peak_rss_mb": round(rss, 1), "peak_gpu_mb": None if gpu is None else round(gpu, 1)}


def no_batch_after_warmup(warmup: int, done: str) -> RuntimeError:
    """The error of a benchmark whose batches all went to warm-up (`done`: timed, profiled)."""
    return RuntimeError(
        f"no batch after the {warmup} warm-up ones was {done}: "
        "give the phase more batches than warm-up ones"
    )


class PhaseClock:
    """Images and seconds of one phase's batches after the first `warmup` ones."""

    def __init__(self, warmup: int) -> None:
        self.warmup, self.images, self.started, self.seconds = warmup, 0, None, None

    def batch_start(self, batch_idx: int, device: torch.device) -> None:
        if batch_idx == self.warmup:
            synchronize(device)
            self.started = time.perf_counter()

    def batch_end(self, batch_idx: int, n_images: int) -> None:
        if batch_idx >= self.warmup:
            self.images += n_images

    def stop(self, device: torch.device) -> None:
        if self.started is None:
            raise no_batch_after_warmup(self.warmup, "timed")
        synchronize(device)
        self.seconds = time.perf_counter() - self.started

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds


class StepClock(L.Callback):
    """Times training and scoring after warm-up, as a run does them (Lightning loop included).

    Training stops when the epoch's timed batches are done; the clock stops at `on_train_end`, so a
    fit a method does at its epoch end (iForest) is counted. Scoring's clock starts at the first
    timed batch, after whatever the method prepares from the training set.
    """

    def __init__(self, train_warmup: int, score_warmup: int) -> None:
        super().__init__()
        self.train, self.score = PhaseClock(train_warmup), PhaseClock(score_warmup)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.train.batch_start(batch_idx, pl_module.device)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.train.batch_end(batch_idx, len(batch.images))

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        trainer.should_stop = True

    def on_train_end(self, trainer, pl_module) -> None:
        self.train.stop(pl_module.device)

    def on_test_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:
        self.score.batch_start(batch_idx, pl_module.device)

    def on_test_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0
    ) -> None:
        self.score.batch_end(batch_idx, len(batch.images))

    def on_test_end(self, trainer, pl_module) -> None:
        self.score.stop(pl_module.device)
