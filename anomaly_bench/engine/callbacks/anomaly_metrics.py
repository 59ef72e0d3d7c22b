"""One metric callback for every method: it collects the test scores (and any per-image
diagnostics), computes the metrics of `evaluation/metrics.py`, saves the scores and plots, and,
for a method that reconstructs, its example pictures (`evaluation/example_pictures.py`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import lightning as L
import numpy as np
from lightning.pytorch.loggers import WandbLogger
from torch import Tensor

from anomaly_bench.evaluation.example_pictures import PICTURES_FILE, draw_example_pictures
from anomaly_bench.evaluation.metrics import (
    detection_metrics,
    diagnostics_by_label,
    held_out_rates,
    roc_points,
)
from anomaly_bench.evaluation.plots import save_roc_curve, save_score_histogram
from anomaly_bench.evaluation.scoring import ScoreCollector
from anomaly_bench.models.base import DIAGNOSTIC_PREFIX
from anomaly_bench.settings.checks import OPEN_SHARE

log = logging.getLogger(__name__)

SCORES_FILE = "scores.npz"


class AnomalyMetrics(L.Callback):
    """Collects every method's test scores and logs `test/<metric>`; saves scores and plots.

    The Youden threshold is chosen on the test set, as the paper does (`threshold_source` says so
    in `results`). When the data module holds out normal images (`val_fraction > 0`), the rates are
    also read at a threshold that flags `val_false_alarm_target` of them, which uses no test data.
    """

    def __init__(self, output_dir: str | Path, val_false_alarm_target: float = 0.05) -> None:
        super().__init__()
        OPEN_SHARE.check("val_false_alarm_target", val_false_alarm_target)
        self.output_dir = Path(output_dir)
        self.val_false_alarm_target = val_false_alarm_target
        self._test = ScoreCollector()
        self._val = ScoreCollector()
        self._last_val_scores: Tensor | None = None
        self.results: dict[str, float | str] = {}
        self.scores_path: Path | None = None
        self.pictures_path: Path | None = None

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._val = ScoreCollector()

    def on_validation_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0
    ) -> None:
        self._val.add(outputs)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if len(self._val) and not trainer.sanity_checking:
            self._last_val_scores = self._val.collect()["scores"]

    def on_test_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._test = ScoreCollector()

    def on_test_batch_end(
        self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0
    ) -> None:
        self._test.add(outputs)

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        collected = self._test.collect()
        scores, labels = collected["scores"].double(), collected["labels"]
        diagnostics = {
            key.removeprefix(DIAGNOSTIC_PREFIX): value
            for key, value in collected.items()
            if key.startswith(DIAGNOSTIC_PREFIX)
        }
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.scores_path = self.output_dir / SCORES_FILE
        np.savez_compressed(
            self.scores_path,
            **{key.replace("/", "_"): value.numpy() for key, value in collected.items()},
        )

        metrics = detection_metrics(scores, labels)
        if self._last_val_scores is not None and len(self._last_val_scores):
            metrics |= held_out_rates(
                scores, labels, self._last_val_scores.double(), self.val_false_alarm_target
            )
        pl_module.log_dict({f"test/{key}": value for key, value in metrics.items()})
        warnings = pl_module.diagnostic_warnings(diagnostics)
        for warning in warnings:
            log.warning("%s", warning)
        self.results = {
            **metrics,
            **diagnostics_by_label(diagnostics, labels),
            "threshold_source": "test_youden",
            # Fewer than the test split when trainer.limit_test_batches cuts the scoring short.
            "n_scored": len(labels),
            "n_scored_normal": int((labels == 0).sum()),
            **({"warnings": warnings} if warnings else {}),
        }
        self._save_plots(trainer, pl_module, scores, labels, metrics)

    def _save_plots(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        scores: Tensor,
        labels: Tensor,
        metrics: dict,
    ) -> None:
        fpr, tpr, _ = roc_points(scores, labels)
        plots = {
            "test/roc_curve": save_roc_curve(
                fpr.numpy(), tpr.numpy(), metrics["auroc"], self.output_dir / "roc.png"
            ),
            "test/score_histogram": save_score_histogram(
                scores.numpy(),
                labels.numpy(),
                metrics["youden_threshold"],
                self.output_dir / "score_histogram.png",
            ),
        }
        test_set = getattr(trainer.datamodule, "test_set", None)
        if test_set is not None:
            self.pictures_path = draw_example_pictures(
                pl_module,
                test_set,
                scores.numpy(),
                labels.numpy(),
                self.output_dir / PICTURES_FILE,
            )
        if self.pictures_path is not None:
            plots["test/example_pictures"] = self.pictures_path
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                for key, path in plots.items():
                    logger.log_image(key=key, images=[str(path)])
