"""Settings a row written before they existed did not save, recovered from what it recorded, so
the report places it by what it really ran.

A row's run key never changes (it finds the row's checkpoint and `skip_done` reads it); only its
configuration, the column a table puts it in, uses what is recovered here.
"""

from __future__ import annotations

import copy
from typing import Any

# CIFAR-10 comes in training files of 10,000 images, 1,000 of each of its ten classes.
CIFAR10_IMAGES_PER_CLASS_AND_BATCH = 1000
CIFAR10_CLASSES = 10


def recorded_train_batches(row: dict[str, Any]) -> int | None:
    """How many CIFAR-10 training batches a run read, from the normal training images it had
    (`n_train` + `n_val`: about 1,000 per normal class and batch; the paper and standard
    protocols have one normal class, leave_one_out nine)."""
    images = row.get("n_train")
    if not isinstance(images, int):
        return None
    normal_classes = CIFAR10_CLASSES - 1 if row.get("protocol") == "leave_one_out" else 1
    images += row.get("n_val") or 0
    return max(1, round(images / (CIFAR10_IMAGES_PER_CLASS_AND_BATCH * normal_classes)))


def config_today(row: dict[str, Any]) -> dict[str, Any] | None:
    """The row's saved config with the settings it predates filled in from its measurements:
    a CIFAR-10 row written before `data.train_batches` existed read whichever batches were
    present (the first Table 3 grid: one of five)."""
    saved = row.get("config")
    data = (saved or {}).get("data")
    if not isinstance(data, dict) or data.get("dataset") != "cifar10" or "train_batches" in data:
        return saved
    batches = recorded_train_batches(row)
    if batches is None:
        return saved
    completed = copy.deepcopy(saved)
    completed["data"]["train_batches"] = batches
    return completed
