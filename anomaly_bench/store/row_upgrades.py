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


# A learning curve's clock before commit 814bbe8 (the resume fix): a run resumed in
# the middle of an epoch added the process's perf_counter() (seconds since boot) to that epoch.
# No epoch takes CLOCK_FAULT_FACTOR times the run's median epoch; such a step is that fault.
CLOCK_FAULT_FACTOR = 10
MIN_POINTS_FOR_REPAIR = 3


def curve_today(points: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
    """A curve's points (in epoch order) with a resumed epoch's clock fault undone: that step's
    training seconds are taken as the run's median epoch times the epochs it spans (the seconds
    before the kill were not recorded), the later points shifted by as much. Also how many steps
    were repaired.

    Steps are compared per epoch: a curve that starts late (Deep SVDD's after its 150
    pretraining epochs, f-AnoGAN's after its GAN stage) has a first step of many epochs, which is
    long but no fault."""
    seconds = [p.get("train_seconds") for p in points]
    if len(points) < MIN_POINTS_FOR_REPAIR or any(s is None for s in seconds):
        return points, 0
    epochs = [p["epoch"] for p in points]
    spans = [b - a for a, b in zip([0, *epochs[:-1]], epochs, strict=True)]
    steps = [b - a for a, b in zip([0.0, *seconds[:-1]], seconds, strict=True)]
    per_epoch = [step / max(span, 1) for step, span in zip(steps, spans, strict=True)]
    typical = sorted(per_epoch)[len(per_epoch) // 2]
    faults = [
        i for i, rate in enumerate(per_epoch) if rate > CLOCK_FAULT_FACTOR * max(typical, 1.0)
    ]
    if not faults:
        return points, 0
    for i in faults:
        steps[i] = typical * max(spans[i], 1)
    clock, repaired = 0.0, []
    for point, step in zip(points, steps, strict=True):
        clock += step
        repaired.append({**point, "train_seconds": round(clock, 3)})
    return repaired, len(faults)
