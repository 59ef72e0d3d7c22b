"""AnoGAN's latent search with the whole batch searched at once against one image at a time."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from anomaly_bench.benchmarks.timing import images_per_second
from anomaly_bench.models.anogan import Anogan
from anomaly_bench.models.components.latent_search import latent_search


def latent_search_speed(
    channels: int, n_images: int, steps: int, device: torch.device
) -> dict[str, Any]:
    """Images/s of the search batched vs one image at a time: same nets, images and z."""
    torch.manual_seed(0)
    model = Anogan(image_size=32, in_channels=channels).to(device).eval()
    images = torch.rand(n_images, channels, 32, 32, device=device) * 2 - 1
    latent = model.sample_latent(n_images)

    def search(lo: int, hi: int) -> torch.Tensor:
        return latent_search(
            model.generator,
            model.discriminator_features,
            images[lo:hi],
            latent[lo:hi],
            replace(model.search, steps=steps),
        )

    batched = images_per_second(lambda: search(0, n_images), n_images, device)
    alone = images_per_second(lambda: [search(i, i + 1) for i in range(n_images)], n_images, device)
    return {
        "channels": channels,
        "images": n_images,
        "steps": steps,
        "batched_images_per_second": round(batched, 2),
        "one_at_a_time_images_per_second": round(alone, 2),
        "speedup": round(batched / alone, 2),
    }
