"""A trained memory's readout: how many memory slots it reads for normal and for anomalous test
images (the Mem_GANomaly mechanism), for finished runs of a results store
(`anomaly-bench memory-sparsity`). Rows written since the metric callback records it carry the
same two figures (`nonzero_slots_normal`, `nonzero_slots_anomalous`); this reads them for older
runs, and for a run's checkpoint at hand.

Each run is rebuilt from its row and `last.ckpt` as `predict` rebuilds it (safe loading, trusted
targets)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra.utils import get_class

from anomaly_bench.data import OneClassDataModule
from anomaly_bench.engine.trained_model import (
    existing_store,
    load_run,
    runs_named,
    scoring_device,
    trained_in,
)
from anomaly_bench.evaluation.scoring import score_split
from anomaly_bench.models.base import DIAGNOSTIC_PREFIX, AnomalyModule
from anomaly_bench.models.components.memory import MemoryDiagnostics
from anomaly_bench.settings.trusted_targets import check_targets
from anomaly_bench.store.results import ResultsStore

# The methods whose model reads a memory (`MemoryDiagnostics`), for the error that finds none.
MEMORY_METHODS = "memae, mem_ganomaly"


def sparsity_by_label(model: AnomalyModule, data: OneClassDataModule) -> dict[str, float]:
    """Mean non-zero weights for normal (label 0) and anomalous (label 1) test images, from the
    test split scored as the test loop scores it (the memory's readout is a diagnostic of its
    `score_batch`)."""
    scored = score_split(model, data.test_dataloader())
    count, label = scored[f"{DIAGNOSTIC_PREFIX}nonzero_slots"], scored["labels"]
    return {
        "normal": count[label == 0].mean().item(),
        "anomalous": count[label == 1].mean().item(),
        "memory_size": float(model.memory.memory.shape[0]),
    }


def has_memory(row: dict[str, Any]) -> bool:
    """Whether the run's model reads a memory; its target is checked before its class is
    imported, as every rebuild of a run checks it."""
    model = row["config"]["model"]
    check_targets({"model": model}, f"run {row['run_key']}")
    return issubclass(get_class(model["_target_"]), MemoryDiagnostics)


def memory_runs(store: ResultsStore, run_keys: list[str] | None) -> list[dict[str, Any]]:
    """The latest ok row of each run of `run_keys` (default: every run) whose method has a
    memory; an error when none has."""
    rows = runs_named(store, run_keys)
    memory = [row for row in rows if has_memory(row)]
    if not memory:
        named = f" whose keys start {', '.join(run_keys)}" if run_keys else ""
        raise ValueError(
            f"none of the {len(rows)} finished runs{named} in {store.path} has a memory; "
            f"allowed: runs of {MEMORY_METHODS}"
        )
    return memory


def run_sparsity(row: dict[str, Any], base: Path) -> dict[str, float]:
    """The run's sparsity by label, its model and test split rebuilt from the row; its relative
    paths (checkpoint, data) start at `base`, the folder it trained in."""
    model, data = load_run(row, None, scoring_device(None), base)
    data.setup("test")
    return sparsity_by_label(model, data)


def sparsity_of_runs(
    results_dir: Path, run_keys: list[str] | None, runs_dir: Path | None = None
) -> dict[str, dict[str, float] | str]:
    """{run key: its sparsity by label, or why it could not be read} for every memory run of
    the store (or of `run_keys`)."""
    store = existing_store(results_dir)
    read: dict[str, dict[str, float] | str] = {}
    for row in memory_runs(store, run_keys):
        base = runs_dir or trained_in(results_dir, row)
        try:
            read[row["run_key"]] = run_sparsity(row, base)
        except FileNotFoundError as err:
            read[row["run_key"]] = str(err)
    return read
