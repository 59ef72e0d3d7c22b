"""A method's model built from a run's config, and a trained one restored from its checkpoint.

Training and every later use of a run (predict, its pictures, the memory's sparsity) build the
model this one way, from the run's config, so a checkpoint only ever supplies weights: loaded
with `weights_only=True`, it can name no class to build and run no code, and a model whose
constructor changed still loads every checkpoint its weights fit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from anomaly_bench.engine.runtime import instantiate
from anomaly_bench.models.base import AnomalyModule


def build_model(model: Any, datamodule: Any) -> AnomalyModule:
    """The configured model (a `model` config node) for the datamodule's images."""
    return instantiate(model, image_size=datamodule.image_size, in_channels=datamodule.num_channels)


def load_trained(
    model: Any, datamodule: Any, checkpoint: Path, device: torch.device | str = "cpu"
) -> AnomalyModule:
    """The configured model with the checkpoint's weights (after the model's own
    `on_load_checkpoint`, which renames an older file's keys), in eval mode on `device`."""
    built = build_model(model, datamodule)
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    built.on_load_checkpoint(saved)
    built.load_state_dict(saved["state_dict"])
    return built.to(device).eval()
