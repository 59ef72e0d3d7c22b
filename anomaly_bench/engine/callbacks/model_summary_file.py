"""The model's summary (layers, parameter counts) in the run's folder instead of on its console:
a grid's console stays one data line, a progress bar and a result line per run, and the counts
are still there to read beside the run's config."""

from __future__ import annotations

from pathlib import Path

import lightning as L
from lightning.pytorch.utilities.model_summary import ModelSummary

from anomaly_bench.settings.whole_files import write_whole

SUMMARY_FILE = "model_summary.txt"


class ModelSummaryFile(L.Callback):
    def __init__(self, output_dir: str | Path, max_depth: int = 1) -> None:
        self.path = Path(output_dir) / SUMMARY_FILE
        self.max_depth = max_depth

    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        write_whole(self.path, f"{ModelSummary(pl_module, max_depth=self.max_depth)}\n")
