"""A store that cannot take a row: refused before training, or the row kept beside the run."""

import json
from pathlib import Path

import pytest

from anomaly_bench.engine.run import train
from anomaly_bench.store.results import FALLBACK_FILE, ResultsStore, RowNotStoredError

QUICK = ("data=synthetic", "model=iforest", "trainer.enable_progress_bar=false")


def test_a_results_dir_that_is_a_file_is_refused_before_training(make_config, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    cfg = make_config(*QUICK)
    cfg.paths.results_dir = str(blocker)
    with pytest.raises(ValueError, match=r"paths\.results_dir=.*not_a_folder is not a folder"):
        train(cfg)
    assert not (tmp_path / "run").exists()  # nothing trained, nothing written
    assert blocker.read_text() == "x"


def test_a_row_the_store_cannot_take_is_kept_in_the_run_folder(make_config, monkeypatch):
    cfg = make_config(*QUICK)

    def read_only(self, row):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(ResultsStore, "append", read_only)
    with pytest.raises(RowNotStoredError, match=rf"it is kept in .*{FALLBACK_FILE}") as failed:
        train(cfg)
    assert "Read-only file system" in str(failed.value)
    kept = json.loads((Path(cfg.paths.output_dir) / FALLBACK_FILE).read_text())
    assert kept["status"] == "ok" and 0.5 < kept["auroc"] <= 1.0


def test_an_unreadable_checkpoint_is_named_with_the_two_ways_out(make_config):
    cfg = make_config(*QUICK)
    train(cfg)
    [checkpoint] = Path(cfg.paths.log_dir).glob("checkpoints/*/last.ckpt")
    checkpoint.write_bytes(b"torn")
    with pytest.raises(ValueError, match=r"last\.ckpt cannot be read .*resume=false .*delete"):
        train(make_config(*QUICK))
    assert train(make_config(*QUICK, "resume=false"))["status"] == "ok"
