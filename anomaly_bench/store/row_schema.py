"""The result row: every field a run writes, its type and what it means, in one place.

A row is one JSON object per run (`results.py`), so the schema is a `TypedDict`: rows stay the
plain dicts that JSON, the store and pandas read, and a type checker knows their keys. Fields
appear as a run reaches them: a run that fails early has the settings part and `error`; an `ok`
row has everything its method measures. Rows written by older versions lack the newer fields;
readers treat a missing field as unknown (`store/row_upgrades.py` recovers what it can).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

# How a prediction's flag threshold can be chosen (`predict --threshold`): the row's field that
# holds it, and what the CSV calls its source.
THRESHOLDS = {
    "held_out": ("val_threshold", "held-out normals"),
    "youden": ("youden_threshold", "test-set Youden (chosen on the test set)"),
}
# How a run stopped by a signal begins its `error` (the rest says where, and how to resume).
INTERRUPTED = "terminated by "


class ResultRow(TypedDict, total=False):
    # What the run is (known before anything can fail).
    run_id: str  # unique per attempt (uuid4 hex): a rerun of one run key gets a new one
    run_key: str  # `run_identity.run_key`: finds the run's checkpoint and its `ok` row
    # The digest of `run_identity.configuration`: the experiment, whatever its class and seed.
    configuration_digest: str
    timestamp: str  # when the row was started, ISO 8601, UTC
    method: str  # the model's id (its module's name)
    dataset: str
    protocol: str  # paper | standard | leave_one_out
    normal_class: int  # the class of the paper and standard protocols
    anomalous_class: int  # the class of leave_one_out
    normal_class_name: str
    anomalous_class_name: str
    seed: int
    max_epochs: int  # the epoch budget
    fast_dev_run: bool
    smoke: bool  # cut short (fast_dev_run, a batch limit): never done, never in a table
    select_epoch_on_test: bool  # the epoch was chosen on the test set (labelled, paper mimicry)
    git_commit: str | None
    versions: dict[str, str]  # python and the packages that decide the numbers
    config: dict[str, Any]  # the whole resolved config the run used
    # How it ended.
    status: str  # ok | failed
    error: str  # why a failed run failed
    warnings: list[str]  # an `ok` run's warnings about the trained model (a collapsed memory)
    # What it measured (an `ok` row): AUROC and AUPRC on the whole test split, rates at the
    # test-set Youden threshold (the paper's Table 4, labelled by `threshold_source`).
    auroc: float
    auprc: float
    gmean: float
    false_alarm_rate: float
    miss_rate: float
    youden_threshold: float
    threshold_source: str
    # The same rates at the threshold flagging `val_false_alarm_target` of held-out normals.
    val_threshold: float
    val_gmean: float
    val_false_alarm_rate: float
    val_miss_rate: float
    n_scored: int  # test images scored (fewer than n_test under a test-batch limit)
    n_scored_normal: int
    nonzero_slots_normal: float  # a memory's mean non-zero weights per image (MemAE, Mem_GANomaly)
    nonzero_slots_anomalous: float
    # The learning curve and the epochs kept from it (`engine/callbacks/learning_curve.py`).
    learning_curve: list[dict[str, Any]]
    curve_subsample: dict[str, Any] | None
    epoch_choices: dict[str, dict[str, Any]]
    epochs: int  # epochs trained
    selected_epoch: int | None  # the test-chosen epoch, under select_epoch_on_test
    resumed_from: str | None  # the checkpoint a resumed run continued from
    # Cost and data.
    train_seconds: float
    test_seconds: float
    train_images_per_second: float
    test_images_per_second: float
    n_train: int  # normal training images (after any held-out share)
    n_val: int  # held-out normal images
    n_test: int
    n_test_normal: int
    device: str  # the GPU's name, or cpu
    # How the device was shared (`engine/gpu_sharing.device_sharing`): the runs at once (the GPU
    # queue's, else the launcher's at most; None under submitit's local launcher, which starts
    # the whole sweep) and whether under CUDA's MPS. Rows written before lack both (the H200's
    # one-fifth Table 3 grid: 14 jobs by time-slicing).
    device_jobs: int | None
    device_mps: bool
    torch_threads: int
    # The instruction set of torch's CPU kernels (AVX512, AVX2, ...). Training is bitwise
    # repeatable on one machine, but kernels of another set round differently, and a GAN's
    # training carries a rounding difference into a different model: reruns of GANomaly's Table 1
    # cells on other CPUs moved AUROC by up to 0.007 (docs/results/measurements.md).
    cpu_capability: str
    # Files the run left.
    scores_path: str
    pictures_path: str | None
    output_dir: str


# Fields every row has, with their types: what the store and the report read of any row.
ROW_FIELDS: dict[str, type] = {"status": str, "method": str, "dataset": str}
# What an `ok` row adds: the fields a table cell is placed by, and its metrics (finite numbers).
# A `failed` row keeps whatever its run was given (a bad seed is why it failed).
# The class field is the protocol's (`class_key`): `normal_class`, or `anomalous_class`.
OK_FIELDS: dict[str, type] = {"protocol": str, "seed": int}
OK_METRICS = ("auroc",)


def interrupted(row: Mapping[str, Any]) -> bool:
    """A run stopped by a signal (preempted, or killed when a session ended): it resumes from its
    checkpoint, so its row records the attempt, not a result, and a reference store keeps it out."""
    return row.get("status") == "failed" and str(row.get("error", "")).startswith(INTERRUPTED)


def curve_scoring_seconds(row: Mapping[str, Any]) -> tuple[float, float]:
    """Seconds a row's fit spent on its learning curve, apart from training: the points' scoring
    passes and the chosen epochs' second pass over the whole test split. The GPU queue takes them
    out of a row's training rate, the curve pages set them against the training they watched."""
    points = sum(p.get("score_seconds") or 0.0 for p in row.get("learning_curve") or [])
    choices = (row.get("epoch_choices") or {}).values()
    return points, sum(c.get("score_seconds") or 0.0 for c in choices)
