"""The batch every model receives, and a split held in memory as uint8 that serves it."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor


class Batch(NamedTuple):
    """Images in [-1, 1], anomaly labels (1 = anomalous) and the original class of each image."""

    images: Tensor
    labels: Tensor
    classes: Tensor


def scale_to_unit_range(images: Tensor) -> Tensor:
    """uint8 [0, 255] to float [-1, 1], the range of the DCGAN generators' tanh output."""
    return images.float().div_(127.5).sub_(1.0)


class InMemoryImages:
    """One split: uint8 images [N, C, H, W], anomaly labels and classes, on one device.

    Kept as uint8 so a split costs a quarter of its float size wherever it lives (a whole CIFAR-10
    paper-protocol test split is 180 MB), and scaled only when a batch is taken.
    """

    def __init__(self, images: Tensor, labels: Tensor, classes: Tensor) -> None:
        self.images, self.labels, self.classes = images, labels, classes
        self._copies: dict[torch.device, InMemoryImages] = {}

    def __len__(self) -> int:
        return len(self.images)

    @property
    def device(self) -> torch.device:
        return self.images.device

    def batch(self, positions: Tensor | slice) -> Batch:
        """The images at `positions` (on this split's device), scaled to [-1, 1]."""
        return Batch(
            scale_to_unit_range(self.images[positions]),
            self.labels[positions],
            self.classes[positions],
        )

    def subset(self, positions: Tensor) -> InMemoryImages:
        """The images at `positions`, in that order, as a split of their own (still uint8)."""
        return InMemoryImages(
            self.images[positions], self.labels[positions], self.classes[positions]
        )

    def on(self, device: torch.device | str) -> InMemoryImages:
        """This split on `device`, copied there once and kept for every later epoch and loader."""
        device = torch.device(device)
        if device == self.device:
            return self
        if device not in self._copies:
            self._copies[device] = InMemoryImages(
                self.images.to(device), self.labels.to(device), self.classes.to(device)
            )
        return self._copies[device]
