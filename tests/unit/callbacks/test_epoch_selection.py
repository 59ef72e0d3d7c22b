import pytest
import torch

from anomaly_bench.engine.callbacks import AnomalyMetrics, SelectEpochOnTest
from anomaly_bench.evaluation.metrics import detection_metrics
from anomaly_bench.models.dagmm import Dagmm
from tests.unit.callbacks.test_anomaly_metrics import TemplateDistance
from tests.unit.models.helpers import quiet_trainer, score_test_split, synthetic_data


class GoodOnlyInEpoch1(TemplateDistance):
    """Learns a template; its score is right in epoch 1 and inverted in every other epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("sign", torch.tensor(1.0))

    def on_train_epoch_start(self) -> None:
        self.sign.fill_(1.0 if self.current_epoch == 1 else -1.0)

    def anomaly_score(self, images):
        return self.sign * super().anomaly_score(images)


def auroc_on_test_split(model) -> float:
    scores, labels = score_test_split(model)
    return detection_metrics(scores.double(), labels)["auroc"]


def test_the_switch_restores_the_epoch_with_the_best_test_auroc():
    selection = SelectEpochOnTest()
    chosen = GoodOnlyInEpoch1()
    quiet_trainer(max_epochs=4, callbacks=[selection]).fit(chosen, datamodule=synthetic_data())
    last = GoodOnlyInEpoch1()
    quiet_trainer(max_epochs=4).fit(last, datamodule=synthetic_data())
    assert selection.selected_epoch == 1
    assert auroc_on_test_split(chosen) == selection.best_auroc > 0.9
    assert (
        auroc_on_test_split(last) < 0.1
    )  # the last epoch's inverted score, which the switch avoided


def test_selection_scores_with_the_statistics_of_the_epoch_it_judges(tmp_path):
    """DAGMM scores with a GMM fitted on the training set: each epoch's judgement must refit it,
    so the AUROC the switch selected on is the one the final test reproduces."""
    torch.manual_seed(0)
    selection = SelectEpochOnTest()
    model = Dagmm(16, 1, width=16)
    quiet_trainer(max_epochs=2, callbacks=[selection]).fit(model, datamodule=synthetic_data())
    collected = AnomalyMetrics(tmp_path)
    quiet_trainer(callbacks=[collected]).test(model, datamodule=synthetic_data())
    assert collected.results["auroc"] == pytest.approx(selection.best_auroc, abs=1e-6)
