"""Callbacks shared by every method."""

from anomaly_bench.callbacks.anomaly_metrics import AnomalyMetrics
from anomaly_bench.callbacks.divergence import DivergenceError, DivergenceGuard
from anomaly_bench.callbacks.epoch_selection import SelectEpochOnTest
from anomaly_bench.callbacks.last_checkpoint import LastCheckpoint
from anomaly_bench.callbacks.learning_curve import LearningCurve
from anomaly_bench.callbacks.model_summary_file import ModelSummaryFile
from anomaly_bench.callbacks.speedups import Speedups
from anomaly_bench.callbacks.throughput import TrainingImageCounter

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
