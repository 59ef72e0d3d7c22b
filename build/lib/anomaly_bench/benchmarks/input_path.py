"""The input path alone: how fast each path hands out a training epoch, with no model."""

from __future__ import annotations

from typing import Any

import torch

from anomaly_bench.benchmarks.timing import images_per_second
from anomaly_bench.data.batches import InMemoryImages
from anomaly_bench.data.loaders import device_batches, ordinary_loader


def input_path_speed(
    channels: int, n_images: int, batch_size: int, device: torch.device, workers: int = 0
) -> dict[str, Any]:
    """Images/s of one shuffled epoch through each path, batches delivered on `device`."""
    split = InMemoryImages(
        torch.randint(0, 256, (n_images, channels, 32, 32), dtype=torch.uint8),
        torch.zeros(n_images, dtype=torch.long),
        torch.zeros(n_images, dtype=torch.long),
    )
    fast = device_batches(split, batch_size, seed=0, device=device)
    ordinary = ordinary_loader(split, batch_size, seed=0, device=device, workers=workers)

    def epoch(loader) -> None:
        for batch in loader:
            batch.images.to(device, non_blocking=True)

    fast_rate = images_per_second(lambda: epoch(fast), n_images, device)
    ordinary_rate = images_per_second(lambda: epoch(ordinary), n_images, device)
    return {
        "channels": channels,
        "images": n_images,
        "batch_size": batch_size,
        "dataloader_workers": workers,
        "device_path_images_per_second": round(fast_rate),
        "dataloader_path_images_per_second": round(ordinary_rate),
        "speedup": round(fast_rate / ordinary_rate, 1),
    }
