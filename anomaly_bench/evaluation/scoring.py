"""Scores collected over a loop, and a split scored from inside training.

The test loop and every in-training look at the test or held-out split (a learning curve, a
test-set epoch choice) score through the model's one `score_batch`, so a point of a curve and the
final test are the same computation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext

import torch
from torch import Tensor, nn

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.base import AnomalyModule
from anomaly_bench.settings.checks import check_choice


class ScoreCollector:
    """Scores, labels, classes (and any per-image diagnostics) of one loop (`score_batch`'s
    outputs), kept on the device until the loop ends."""

    def __init__(self) -> None:
        self.parts: list[dict[str, Tensor]] = []

    def add(self, outputs: dict[str, Tensor]) -> None:
        self.parts.append({key: value.detach() for key, value in outputs.items()})

    def collect(self) -> dict[str, Tensor]:
        return {key: torch.cat([part[key] for part in self.parts]).cpu() for key in self.parts[0]}

    def __len__(self) -> int:
        return len(self.parts)


# Which statistics BatchNorm normalises by while scoring: `running` (eval mode, every image
# scored alone: the test loop's) or `batch` (each batch's own, as the reference GANomaly code's
# test pass, which never calls `eval()`: an image's score then depends on its batch-mates).
BATCHNORM_STATISTICS = ("running", "batch")
BATCHNORM_LAYERS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def batchnorm_layers(module: nn.Module) -> list[nn.Module]:
    return [layer for layer in module.modules() if isinstance(layer, BATCHNORM_LAYERS)]


@contextmanager
def on_batch_statistics(module: nn.Module) -> Iterator[None]:
    """Every BatchNorm layer of `module` in training mode for the block, so that it normalises
    each batch by that batch's statistics; its running statistics, which training mode updates,
    are put back after, so the model scores afterwards exactly as before."""
    layers = batchnorm_layers(module)
    if not layers:
        raise ValueError(
            f"{type(module).__name__} has no BatchNorm layer, so its scores cannot depend on "
            "BatchNorm's statistics; allowed: a model with BatchNorm layers"
        )
    saved = [{name: value.clone() for name, value in layer.named_buffers()} for layer in layers]
    modes = [layer.training for layer in layers]
    for layer in layers:
        layer.train()
    try:
        yield
    finally:
        for layer, buffers, mode in zip(layers, saved, modes, strict=True):
            for name, value in buffers.items():
                getattr(layer, name).copy_(value)
            layer.train(mode)


def score_split(
    module: AnomalyModule,
    batches: Iterable[Batch],
    before_batch: Callable[[], None] | None = None,
    batchnorm: str = "running",
) -> dict[str, Tensor]:
    """Score every batch as the test loop does, from inside training: eval mode, no gradients,
    `prepare_scoring` first, the same float32 `score_batch`. Training mode and the random state
    are left as they were, so scoring mid-training never changes the weights training ends with.
    `before_batch` runs before each batch: where the caller stops a long scoring pass (a signal
    acted on within one batch, not after minutes). `batchnorm="batch"` scores with BatchNorm on
    each batch's own statistics (BATCHNORM_STATISTICS), the rest of the model in eval mode.
    """
    check_choice("batchnorm", batchnorm, BATCHNORM_STATISTICS)
    was_training = module.training
    devices = [module.device] if module.device.type == "cuda" else []
    collected = ScoreCollector()
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        module.eval()
        try:
            module.prepare_scoring()
            with on_batch_statistics(module) if batchnorm == "batch" else nullcontext():
                for batch in batches:
                    if before_batch is not None:
                        before_batch()
                    on_device = Batch(*(part.to(module.device) for part in batch))
                    collected.add(module.score_batch(on_device))
        finally:
            module.train(was_training)
    return collected.collect()
