"""Scores collected over a loop, and a split scored from inside training.

The test loop and every in-training look at the test or held-out split (a learning curve, a
test-set epoch choice) score through the model's one `score_batch`, so a point of a curve and the
final test are the same computation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch
from torch import Tensor

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.base import AnomalyModule


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


def score_split(
    module: AnomalyModule,
    batches: Iterable[Batch],
    before_batch: Callable[[], None] | None = None,
) -> dict[str, Tensor]:
    """Score every batch as the test loop does, from inside training: eval mode, no gradients,
    `prepare_scoring` first, the same float32 `score_batch`. Training mode and the random state
    are left as they were, so scoring mid-training never changes the weights training ends with.
    `before_batch` runs before each batch: where the caller stops a long scoring pass (a signal
    acted on within one batch, not after minutes).
    """
    was_training = module.training
    devices = [module.device] if module.device.type == "cuda" else []
    collected = ScoreCollector()
    with torch.random.fork_rng(devices=devices), torch.no_grad():
        module.eval()
        try:
            module.prepare_scoring()
            for batch in batches:
                if before_batch is not None:
                    before_batch()
                on_device = Batch(*(part.to(module.device) for part in batch))
                collected.add(module.score_batch(on_device))
        finally:
            module.train(was_training)
    return collected.collect()
