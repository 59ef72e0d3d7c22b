import lightning as L
import torch

from anomaly_bench.engine.callbacks import LastCheckpoint
from tests.unit.callbacks.test_anomaly_metrics import TemplateDistance
from tests.unit.models.helpers import synthetic_data


class SeesTheCheckpoint(L.Callback):
    """Records, at each epoch start, the epoch stored in last.ckpt (None when there is none)."""

    def __init__(self, path) -> None:
        self.path, self.seen = path, []

    def on_train_epoch_start(self, trainer, pl_module) -> None:
        saved = torch.load(self.path, weights_only=True) if self.path.exists() else None
        self.seen.append(None if saved is None else saved["epoch"])


def test_last_ckpt_is_written_after_every_epoch_not_only_at_the_end(tmp_path):
    last = LastCheckpoint(tmp_path / "ckpt")
    probe = SeesTheCheckpoint(last.path)
    trainer = L.Trainer(
        max_epochs=3,
        logger=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        limit_val_batches=0,
        callbacks=[last, probe],
    )
    trainer.fit(TemplateDistance(), datamodule=synthetic_data())
    assert probe.seen == [None, 0, 1]
    assert torch.load(last.path, weights_only=True)["epoch"] == 2
    assert [p.name for p in last.dirpath.iterdir()] == ["last.ckpt"]  # no partial file left
