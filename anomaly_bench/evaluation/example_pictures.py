"""What a method keys on, in one strip per run: the normal and the anomalous test images it scored
lowest and highest, each beside its reconstruction and anomaly map.

The four picks are the ends of the two score distributions: a normal image scored lowest is what
the method finds most typical; a normal image scored highest is its likeliest false alarm; an
anomaly scored highest is what it finds easiest; an anomaly scored lowest is its likeliest miss.
Only the four images are run through the model again, so drawing costs nothing beside a test pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from anomaly_bench.data.batches import InMemoryImages
from anomaly_bench.evaluation.anomaly_maps import (
    anomaly_maps,
    overlay,
    reconstruction_image,
    to_rgb,
)
from anomaly_bench.evaluation.plots import save_figure
from anomaly_bench.models.base import AnomalyModule

PICTURES_FILE = "example_pictures.png"
PANELS = ("image", "reconstruction", "|x - G(x)|")
PANEL_INCHES = 1.1


@dataclass(frozen=True)
class Pick:
    """One test image of the strip: which end of which distribution, its place, its score."""

    title: str
    index: int
    score: float


def pick_examples(scores: np.ndarray, labels: np.ndarray) -> list[Pick]:
    """Normal lowest, normal highest, anomaly highest, anomaly lowest (of tied scores, the lowest
    is the first image in the split, the highest the last)."""
    picks = []
    ends_of = {"normal": ("lowest", "highest"), "anomaly": ("highest", "lowest")}
    for label, (name, ends) in enumerate(ends_of.items()):
        at = np.flatnonzero(labels == label)
        if len(at) == 0:
            continue
        ordered = at[np.argsort(scores[at], kind="stable")]
        for end in ends:
            index = int(ordered[0] if end == "lowest" else ordered[-1])
            picks.append(Pick(f"{name}, {end} score", index, float(scores[index])))
    return picks


def save_strip(
    originals: np.ndarray,
    reconstructions: torch.Tensor,
    amaps: np.ndarray,
    picks: list[Pick],
    path: Path,
) -> Path:
    """One row of image | reconstruction | map per pick (uint8 originals [K, C, H, W])."""
    fig, axes = plt.subplots(
        1,
        len(PANELS) * len(picks),
        figsize=(PANEL_INCHES * len(PANELS) * len(picks), PANEL_INCHES * 1.45),
        squeeze=False,
    )
    for number, pick in enumerate(picks):
        original = originals[number]
        height, width = original.shape[1:]
        drawn = (
            to_rgb(original),
            reconstruction_image(reconstructions[number], width, height),
            overlay(original, amaps[number]),
        )
        for offset, (panel, pixels) in enumerate(zip(PANELS, drawn, strict=True)):
            axis = axes[0, number * len(PANELS) + offset]
            axis.imshow(pixels, interpolation="nearest")
            axis.set_xticks([])
            axis.set_yticks([])
            title = f"{pick.title}\n{pick.score:.4g}" if offset == 0 else f"\n{panel}"
            axis.set_title(title, fontsize=7)
    fig.tight_layout(pad=0.2)
    return save_figure(fig, path)


@torch.no_grad()
def draw_example_pictures(
    model: AnomalyModule,
    test_set: InMemoryImages,
    scores: np.ndarray,
    labels: np.ndarray,
    path: Path,
) -> Path | None:
    """The strip of a scored test split (scores in the split's order), or None for a method
    with no reconstruction in a forward pass."""
    picks = pick_examples(scores, labels)
    at = torch.tensor([pick.index for pick in picks], device=test_set.device)
    images = test_set.batch(at).images.to(model.device)
    was_training = model.training
    model.eval()
    try:
        with torch.autocast(model.device.type, enabled=False):
            reconstructions = model.reconstruction(images)
    finally:
        model.train(was_training)
    if reconstructions is None:
        return None
    originals = test_set.images[at].cpu().numpy()
    amaps = anomaly_maps(images, reconstructions)
    return save_strip(originals, reconstructions, amaps, picks, path)
