"""A finished run's test split scored again with BatchNorm on each batch's own statistics, as the
reference GANomaly code's test pass scores (`anomaly-bench batchnorm-check`).

That test pass (github.com/samet-akcay/ganomaly, lib/model.py `test`) never calls `eval()`: the
generator scores in training mode, so BatchNorm normalises each batch of 64 by its own statistics
and an image's score depends on the images batched with it. Its CIFAR-10 loader does not shuffle
the test split and lists the normal images first (lib/data.py: `shuffle = {'train': True,
'test': False}`, `np.concatenate((nrm_tst_img, abn_trn_img, abn_tst_img))`), so nearly every
batch holds one label only; its MNIST loader shuffles (`'test': True`). Each reading here is one
of these, beside ours (running statistics, every image scored alone), on the same weights:

- `running`: our test loop's scoring (the run's order and eval batch size); equals the row's AUROC.
- `batch_one`: batch statistics, one image a batch: each image normalised by its own statistics,
  no batch-mates. What the first author says the paper's figures used (samet-akcay/ganomaly
  issue 83: BatchNorm in training mode with a test batch of one image), though the released code
  tests in batches of its `--batchsize`, 64.
- `batch_shuffled`: batch statistics, batches of 64 in a fixed shuffled order (the reference's
  MNIST loader): what batch statistics do with batch-mates of either label.
- `batch_normal_first`: batch statistics, batches of 64, the normal images first, then the
  anomalous ones, each in the split's order (the reference's CIFAR-10 loader): batch-mates that
  share the image's label, i.e. the labels reach the scores through the batches.

Each run is rebuilt from its row and `last.ckpt` as `predict` rebuilds it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from anomaly_bench.data.batches import InMemoryImages
from anomaly_bench.data.loaders import device_batches
from anomaly_bench.data.one_class import OneClassDataModule
from anomaly_bench.engine.trained_model import (
    build_model,
    existing_store,
    load_run,
    run_data,
    runs_named,
    scoring_device,
    trained_in,
)
from anomaly_bench.evaluation.metrics import detection_metrics
from anomaly_bench.evaluation.scoring import batchnorm_layers, score_split
from anomaly_bench.models.base import AnomalyModule

# The released reference code's test batch (its `--batchsize` default, 64, for both datasets).
REFERENCE_BATCH = 64
# The shuffled order's seed: fixed, so a reading is repeatable.
SHUFFLE_SEED = 0
READINGS = ("running", "batch_one", "batch_shuffled", "batch_normal_first")


def in_order(split: InMemoryImages, order: str) -> InMemoryImages:
    """The split shuffled (`shuffled`, a fixed seed) or with its normal images first
    (`normal_first`, a stable sort on the label: each group keeps the split's order)."""
    if order == "shuffled":
        generator = torch.Generator().manual_seed(SHUFFLE_SEED)
        positions = torch.randperm(len(split), generator=generator)
    else:
        positions = torch.argsort(split.labels.cpu(), stable=True)
    return split.subset(positions.to(split.device))


def auroc(model: AnomalyModule, batches: Any, batchnorm: str) -> float:
    scored = score_split(model, batches, batchnorm=batchnorm)
    return detection_metrics(scored["scores"].double(), scored["labels"])["auroc"]


def readings(model: AnomalyModule, data: OneClassDataModule) -> dict[str, float]:
    """AUROC of the data's test split under each of READINGS, on the model's device."""
    data.setup("test")
    test_split, device = data.test_set, model.device

    def on_batch_statistics_of(order: str | None, batch_size: int) -> float:
        split = test_split if order is None else in_order(test_split, order)
        return auroc(model, device_batches(split, batch_size, None, device), "batch")

    return {
        "running": auroc(model, data.test_dataloader(), "running"),
        "batch_one": on_batch_statistics_of(None, 1),
        "batch_shuffled": on_batch_statistics_of("shuffled", REFERENCE_BATCH),
        "batch_normal_first": on_batch_statistics_of("normal_first", REFERENCE_BATCH),
    }


def run_readings(row: dict[str, Any], base: Path, device: torch.device) -> dict[str, float] | None:
    """The readings of one run, its model and test split rebuilt from its row (its relative
    paths, checkpoint and data, start at `base`, the folder it trained in); None when its model
    has no BatchNorm layer, whose scores these readings cannot move (known from the untrained
    model: neither its checkpoint nor its training images are read)."""
    if not batchnorm_layers(build_model(row["config"]["model"], run_data(row, base))):
        return None
    model, data = load_run(row, None, device, base)
    return readings(model, data)


def readings_of_runs(
    results_dir: Path,
    run_keys: list[str] | None,
    runs_dir: Path | None = None,
    device: str | None = None,
) -> tuple[dict[str, dict[str, float] | str], list[str]]:
    """({run key: its readings and the row's AUROC (`row`), or why they could not be read}, the
    keys of the runs left out because their model has no BatchNorm layer) for every run of the
    store (or of `run_keys`); an error when no run has BatchNorm."""
    store = existing_store(results_dir)
    on = scoring_device(device)
    read: dict[str, dict[str, float] | str] = {}
    without: list[str] = []
    rows = runs_named(store, run_keys)
    for row in rows:
        try:
            found = run_readings(row, runs_dir or trained_in(results_dir, row), on)
        except FileNotFoundError as err:
            read[row["run_key"]] = str(err)
            continue
        if found is None:
            without.append(row["run_key"])
        else:
            read[row["run_key"]] = {"row": row["auroc"], **found}
    if not read:
        named = f" whose keys start {', '.join(run_keys)}" if run_keys else ""
        raise ValueError(
            f"none of the {len(rows)} finished runs{named} in {store.path} has a BatchNorm layer; "
            "allowed: runs of a method whose networks have one (every method here but iforest)"
        )
    return read, without
