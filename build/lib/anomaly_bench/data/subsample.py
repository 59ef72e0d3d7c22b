"""A fixed subsample of a test split on which a learning curve chooses its epoch.

A full-split point on MNIST's paper protocol scores about 64,000 images (more than a GANomaly
epoch trains on), so a curve reads its points on a subsample and only the epochs it keeps are
scored on the whole split. The subsample takes normal and anomalous images in equal parts (all
normals when there are fewer): AUROC does not depend on the share of anomalies, and the paper
protocol's 1.5 % normals would otherwise leave a few dozen normals and a noisy choice. Each side
is stratified by original class, and the positions depend only on the split and `seed`, so every
epoch, method and run seed of a cell is read on the same images.
"""

from __future__ import annotations

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import Tensor


def _stratified(positions: Tensor, classes: Tensor, size: int, seed: int) -> Tensor:
    """`size` of `positions`, each original class in its share (plain seeded draw where a class
    is too rare to be split, which only tiny test splits have)."""
    if size >= len(positions):
        return positions
    strata = classes[positions].numpy()
    counts = np.unique(strata, return_counts=True)[1]
    splittable = counts.min() >= 2 and min(size, len(positions) - size) >= len(counts)
    chosen, _ = train_test_split(
        positions.numpy(),
        train_size=size,
        random_state=seed,
        stratify=strata if splittable else None,
    )
    return torch.from_numpy(chosen)


def balanced_subsample(labels: Tensor, classes: Tensor, size: int, seed: int) -> Tensor:
    """Sorted positions of `size` test images (all of them when the split is no larger): half
    normal, half anomalous where both sides allow, each stratified by class."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 2:
        raise ValueError(f"subsample={size!r} is not allowed; allowed: an integer >= 2 or null")
    if size >= len(labels):
        return torch.arange(len(labels))
    normal = (labels == 0).nonzero().squeeze(1)
    anomalous = (labels != 0).nonzero().squeeze(1)
    n_normal = min(len(normal), size // 2)
    n_anomalous = min(len(anomalous), size - n_normal)
    n_normal = min(len(normal), size - n_anomalous)
    picked = torch.cat(
        [
            _stratified(normal, classes, n_normal, seed),
            _stratified(anomalous, classes, n_anomalous, seed),
        ]
    )
    return picked.sort().values
