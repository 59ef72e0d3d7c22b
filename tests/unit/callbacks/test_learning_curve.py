"""The learning curve: points in the row, the same final weights, the report's last vs best."""

from pathlib import Path

import numpy as np
import pytest

from anomaly_bench.callbacks import LearningCurve
from anomaly_bench.reporting.curves import curve_markdown, last_and_best
from anomaly_bench.reporting.paper_tables import load_paper_table
from anomaly_bench.reporting.tables import paper_report
from anomaly_bench.results import ResultsStore
from anomaly_bench.run import train


def anogan_run(make_config, *overrides: str) -> dict:
    """AnoGAN: its latent search draws random starting points, so scoring consumes the RNG."""
    cfg = make_config(
        "model=anogan",
        "data=synthetic",
        "model.search.steps=2",
        "trainer.max_epochs=3",
        "trainer.enable_progress_bar=false",
        "resume=false",
        *overrides,
    )
    return train(cfg)


def test_a_curve_records_every_epoch_and_leaves_the_final_weights_alone(make_config):
    plain = anogan_run(make_config)
    curved = anogan_run(make_config, "callbacks.learning_curve.every_n_epochs=1")
    assert "learning_curve" not in plain
    points = curved["learning_curve"]
    assert [p["epoch"] for p in points] == [1, 2, 3]
    assert all(p["n_scored"] == curved["n_scored"] for p in points)
    seconds = [p["train_seconds"] for p in points]
    assert seconds == sorted(seconds) and all(p["score_seconds"] > 0 for p in points)
    # Same weights at the end: the final scores are identical to the run without a curve.
    assert np.array_equal(
        np.load(plain["scores_path"])["scores"], np.load(curved["scores_path"])["scores"]
    )
    assert curved["auroc"] == plain["auroc"]


def test_a_negative_cadence_is_refused_naming_the_key():
    with pytest.raises(ValueError, match="every_n_epochs=-1 is not allowed; allowed: 0 \\(off\\)"):
        LearningCurve(every_n_epochs=-1)


def curve_row(normal_class: int, last: float, aurocs: list[float]) -> dict:
    curve = [
        {"epoch": e + 1, "auroc": a, "n_scored": 100, "train_seconds": 10.0 * (e + 1)}
        for e, a in enumerate(aurocs)
    ]
    return {
        "method": "ganomaly", "dataset": "mnist", "protocol": "paper", "normal_class": normal_class,
        "seed": 0, "status": "ok", "auroc": last, "epochs": len(aurocs), "learning_curve": curve,
    }  # fmt: skip


def test_the_report_shows_last_and_best_epoch_with_the_gap():
    row = curve_row(8, 0.7310, [0.90, 0.92, 0.9311, 0.80, 0.7310])
    summary = last_and_best(row)
    assert (summary.last, summary.best, summary.best_epoch) == (0.7310, 0.9311, 3)
    assert summary.gap == pytest.approx(0.2001)
    text = curve_markdown([row], load_paper_table(1))
    assert "| 8 | 0.7310 / 0.9311 (+0.2001, epoch 3) |" in text
    assert curve_markdown([row | {"learning_curve": None}], load_paper_table(1)) is None


def test_curves_are_drawn_against_epoch_and_seconds(tmp_path: Path):
    store = ResultsStore(tmp_path / "results")
    for normal_class in (0, 1):
        for seed in (0, 1):
            store.append(
                curve_row(normal_class, 0.9, [0.5, 0.7 + 0.01 * seed, 0.9]) | {"seed": seed}
            )
    text = paper_report(tmp_path / "results", 1, tmp_path / "report", curves=True)
    for name in ("table1_curves_epoch.png", "table1_curves_seconds.png"):
        assert (tmp_path / "report" / name).stat().st_size > 0
        assert name in text
    assert "Last epoch vs best epoch" in text
