"""GANomaly scored the way its reference code's test loop scores it, as the rate ours is held to.

The reference (github.com/samet-akcay/ganomaly, lib/model.py `test`) leaves the generator in train
mode (BatchNorm normalises each batch by its own statistics), takes batches of its `batchsize`,
64, under `no_grad`, and writes each batch's mean squared latent distance into a preallocated
tensor, with no framework around the loop. Our rate (the method table's, Lightning's test loop in
eval mode at `data.eval_batch_size`) is set beside this one on the same networks and images.
"""

from __future__ import annotations

from typing import Any

import torch

from anomaly_bench.benchmarks.timing import images_per_second
from anomaly_bench.models.components.scores import per_sample_mse
from anomaly_bench.models.ganomaly import Ganomaly

REFERENCE_TEST_BATCH = 64


def reference_scoring_speed(channels: int, n_images: int, device: torch.device) -> dict[str, Any]:
    torch.manual_seed(0)
    model = Ganomaly(image_size=32, in_channels=channels).to(device).train()
    images = torch.rand(n_images, channels, 32, 32, device=device) * 2 - 1
    scores = torch.zeros(n_images, device=device)

    def reference_loop() -> None:
        with torch.no_grad():
            for start in range(0, n_images, REFERENCE_TEST_BATCH):
                generated = model.generator(images[start : start + REFERENCE_TEST_BATCH])
                scores[start : start + len(generated.latent)] = per_sample_mse(
                    generated.latent, generated.reconstructed_latent
                )

    return {
        "channels": channels,
        "images": n_images,
        "batch_size": REFERENCE_TEST_BATCH,
        "reference_loop_images_per_second": round(
            images_per_second(reference_loop, n_images, device), 1
        ),
    }
