"""Callbacks shared by every method."""

from anomaly_bench.engine.callbacks.anomaly_metrics import AnomalyMetrics
from anomaly_bench.engine.callbacks.divergence import DivergenceError, DivergenceGuard
from anomaly_bench.engine.callbacks.epoch_selection import SelectEpochOnTest
from anomaly_bench.engine.callbacks.last_checkpoint import LastCheckpoint
from anomaly_bench.engine.callbacks.learning_curve import LearningCurve
from anomaly_bench.engine.callbacks.model_summary_file import ModelSummaryFile
from anomaly_bench.engine.callbacks.speedups import Speedups
from anomaly_bench.engine.callbacks.throughput import TrainingImageCounter

__all__ = [
    "AnomalyMetrics",
    "DivergenceError",
    "DivergenceGuard",
    "LastCheckpoint",
    "LearningCurve",
    "ModelSummaryFile",
    "SelectEpochOnTest",
    "Speedups",
    "TrainingImageCounter",
]
