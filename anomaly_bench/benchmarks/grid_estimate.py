"""How long the paper's grids would take on the benchmarked device, run one job at a time.

A run costs its epochs over the normal class's training images at the measured training rate
(each stage at its own rate for two-stage methods) plus one pass of the test split at the
measured scoring rate. What a method fits from the training set before scoring (a critic's mean,
a GMM) and process start-up are left out, so the estimate is a lower bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from anomaly_bench import CONF_DIR
from anomaly_bench.benchmarks.method_speed import (
    BenchCase,
    compose_case,
    second_stage_label,
)
from anomaly_bench.data.sources import dataset_spec
from anomaly_bench.settings.bench_settings import BenchSettings
from anomaly_bench.settings.experiments import experiment_grid, paper_protocol_sizes
from anomaly_bench.settings.method_facts import first_stage_key

PAPER_GRIDS = {1: "table1_mnist", 2: "table2_fmnist", 3: "table3_cifar10"}


@dataclass(frozen=True)
class RunShape:
    """One run's work: epochs per stage, images per epoch, images scored."""

    stage_epochs: tuple[int, ...]
    n_train: int
    n_test: int


def run_seconds(shape: RunShape, train_rates: tuple[float, ...], score_rate: float) -> float:
    """Seconds of one run: each stage's epochs at its rate, then one scoring pass."""
    training = sum(
        epochs * shape.n_train / rate
        for epochs, rate in zip(shape.stage_epochs, train_rates, strict=True)
    )
    return training + shape.n_test / score_rate


def estimate_table(
    table: int, rows: list[dict[str, Any]], settings: BenchSettings
) -> dict[str, Any]:
    """One paper grid's estimated hours from the measured rows of the grid's channel count;
    methods not measured are named, not guessed."""
    grid = experiment_grid(CONF_DIR, PAPER_GRIDS[table])
    dataset = grid["dataset"][0]
    channels = dataset_spec(dataset).channels
    rates = {row["label"]: row for row in rows if row["channels"] == channels}
    n_train, n_test = paper_protocol_sizes(dataset)
    runs_per_method = len(grid["data.normal_class"]) * len(grid["seed"])
    methods, missing = [], []
    for method in grid["model"]:
        cfg = compose_case(BenchCase(method, method, channels), settings)
        key = first_stage_key(method)
        stage_labels = [method] + ([second_stage_label(method)] if key else [])
        if any(label not in rates for label in stage_labels):
            missing.append(method)
            continue
        epochs = cfg.trainer.max_epochs
        first = cfg.model[key] if key else epochs
        shape = RunShape((first, epochs - first)[: len(stage_labels)], n_train, n_test)
        seconds = run_seconds(
            shape,
            tuple(rates[label]["train_images_per_second"] for label in stage_labels),
            rates[method]["score_images_per_second"],
        )
        methods.append({"method": method, "epochs": epochs, "run_hours": round(seconds / 3600, 3)})
    total = sum(m["run_hours"] for m in methods) * runs_per_method
    return {
        "table": table,
        "dataset": dataset,
        "channels": channels,
        "runs": len(methods) * runs_per_method,
        "n_train_per_run": n_train,
        "n_test_per_run": n_test,
        "methods": methods,
        "not_measured": missing,
        "grid_hours": round(total, 2),
    }
