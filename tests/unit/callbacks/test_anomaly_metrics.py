import lightning as L
import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve
from torch import nn

from anomaly_bench.data import OneClassDataModule
from anomaly_bench.engine.callbacks.anomaly_metrics import AnomalyMetrics
from anomaly_bench.evaluation.metrics import (
    detection_metrics,
    quantile_threshold,
    rates_at,
    youden_threshold,
)
from anomaly_bench.models.base import AnomalyModule


@pytest.mark.parametrize("scale", [1.0, 1e4])
def test_auroc_and_auprc_equal_sklearn_on_scores_with_ties(scale):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 500)
    scores = (rng.integers(0, 20, 500) + 3 * labels) * scale  # many ties; unbounded values
    metrics = detection_metrics(torch.tensor(scores, dtype=torch.float64), torch.tensor(labels))
    assert metrics["auroc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-6)
    assert metrics["auprc"] == pytest.approx(average_precision_score(labels, scores), abs=1e-6)


def test_youden_threshold_and_rates_on_a_hand_made_case():
    normal, anomalous = [1.0, 2.0, 3.0, 4.0, 5.0], [4.5, 6.0, 7.0, 0.5]
    scores = torch.tensor(normal + anomalous)
    labels = torch.tensor([0] * 5 + [1] * 4)
    # J at 4.5: TPR 3/4 - FPR 1/5 = 0.55, the maximum (6.0 gives 0.5, 4.0 gives 0.35).
    assert youden_threshold(scores, labels) == 4.5
    rates = rates_at(scores, labels, 4.5)
    assert rates.false_alarm_rate == pytest.approx(0.2)
    assert rates.miss_rate == pytest.approx(0.25)
    assert rates.gmean == pytest.approx(np.sqrt(0.8 * 0.75))


def test_youden_threshold_maximises_j_like_sklearns_roc():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 300)
    scores = rng.normal(size=300) + labels
    fpr, tpr, thresholds = roc_curve(labels, scores)
    ours = youden_threshold(torch.tensor(scores), torch.tensor(labels))
    assert ours == pytest.approx(thresholds[np.argmax(tpr - fpr)])


def test_held_out_threshold_flags_the_target_share_of_normals():
    threshold = quantile_threshold(torch.arange(100.0), 0.05)
    assert (torch.arange(100.0) >= threshold).float().mean().item() == pytest.approx(0.05)


def test_single_class_test_split_is_refused_by_name():
    with pytest.raises(ValueError, match="5 normal and 0 anomalous"):
        detection_metrics(torch.rand(5), torch.zeros(5, dtype=torch.long))


class TemplateDistance(AnomalyModule):
    """A minimal detector: squared distance to the mean normal training image."""

    def __init__(self) -> None:
        super().__init__()
        self.template = nn.Parameter(torch.zeros(1, 1, 16, 16))

    def training_step(self, batch, batch_idx):
        return (batch.images - self.template).pow(2).mean()

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=10.0)

    def anomaly_score(self, images):
        return (images - self.template).pow(2).flatten(1).mean(1)


def test_callback_collects_scores_of_any_method_and_saves_them(tmp_path):
    data = OneClassDataModule("synthetic", normal_class=2, image_size=16, val_fraction=0.25)
    callback = AnomalyMetrics(tmp_path)
    trainer = L.Trainer(
        max_epochs=3,
        callbacks=[callback],
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
    )
    trainer.fit(TemplateDistance(), datamodule=data)
    trainer.test(trainer.lightning_module, datamodule=data)

    saved = np.load(tmp_path / "scores.npz")
    assert len(saved["scores"]) == data.n_test
    assert trainer.callback_metrics["test/auroc"].item() == pytest.approx(
        roc_auc_score(saved["labels"], saved["scores"])
    )
    assert callback.results["auroc"] > 0.95
    assert callback.results["threshold_source"] == "test_youden"
    assert 0 <= callback.results["val_false_alarm_rate"] <= 1
    assert (tmp_path / "roc.png").stat().st_size > 0 and (
        tmp_path / "score_histogram.png"
    ).stat().st_size > 0


def test_fully_tied_scores_flag_nothing_as_sklearns_first_roc_threshold():
    """No threshold beats chance: sklearn's roc_curve starts at +inf (nothing flagged), and so
    does the Youden point here: false-alarm rate 0, miss rate 1, gmean 0."""
    labels = np.array([0] * 6 + [1] * 10)
    scores = np.full(16, 0.3)
    fpr, tpr, thresholds = roc_curve(labels, scores)
    theirs = thresholds[np.argmax(tpr - fpr)]
    ours = youden_threshold(torch.tensor(scores), torch.tensor(labels))
    assert ours == theirs == np.inf
    metrics = detection_metrics(torch.tensor(scores), torch.tensor(labels))
    assert (metrics["false_alarm_rate"], metrics["miss_rate"], metrics["gmean"]) == (0.0, 1.0, 0.0)
