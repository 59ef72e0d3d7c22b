"""The learning curve: points in the row, the same final weights, the report's last vs best."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import friedmanchisquare

from anomaly_bench.engine.callbacks import LearningCurve
from anomaly_bench.engine.run import train
from anomaly_bench.reporting.curves import curve_markdown, fit_seconds, last_and_best
from anomaly_bench.reporting.paper_tables import load_paper_table
from anomaly_bench.reporting.tables import paper_report
from anomaly_bench.store.results import ResultsStore


def synthetic_run(make_config, *overrides: str) -> dict:
    """A fresh run on the synthetic data (no resume from an earlier test's checkpoint)."""
    return train(
        make_config(
            "data=synthetic", "trainer.enable_progress_bar=false", "resume=false", *overrides
        )
    )


def anogan_run(make_config, *overrides: str) -> dict:
    """AnoGAN: its latent search draws random starting points, so scoring consumes the RNG."""
    return synthetic_run(
        make_config, "model=anogan", "model.search.steps=2", "trainer.max_epochs=3", *overrides
    )


@pytest.mark.slow
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


@pytest.mark.slow
def test_a_two_stage_method_gets_points_only_once_its_score_reads_the_second_stage(make_config):
    """f-AnoGAN's score goes through its encoder, untrained until the WGAN-GP stage ends: a point
    there would cost a full scoring of nothing, and could be chosen as the best epoch."""
    run = synthetic_run(
        make_config,
        "model=fanogan",
        "trainer.max_epochs=4",
        "model.gan_epochs=2",
        "callbacks.learning_curve.every_n_epochs=1",
    )
    assert [p["epoch"] for p in run["learning_curve"]] == [3, 4]
    assert run["epoch_choices"]["best_test_epoch"]["epoch"] in (3, 4)


def test_a_single_fit_gets_no_curve_and_no_best_epoch(make_config):
    """iForest fits once: a curve would read its final test twice and call that a choice."""
    run = synthetic_run(make_config, "model=iforest", "callbacks.learning_curve.every_n_epochs=1")
    assert run["status"] == "ok" and run["epochs"] == 1
    assert "learning_curve" not in run and "epoch_choices" not in run
    assert last_and_best(run) is None


def ganomaly_run(make_config, *overrides: str) -> dict:
    return synthetic_run(
        make_config, "model=ganomaly", "data.val_fraction=0.2", "trainer.max_epochs=4", *overrides
    )


@pytest.mark.slow
def test_the_chosen_epochs_are_scored_on_the_whole_test_split(make_config):
    """Points on 24 images choose the epoch; the figure a row reports for it is that epoch's
    weights on the whole split: the full-split curve of the same run (same weights per epoch,
    since a curve never changes them) at that epoch."""
    plain = ganomaly_run(make_config)
    sub = ganomaly_run(
        make_config,
        "callbacks.learning_curve.every_n_epochs=1",
        "callbacks.learning_curve.subsample=24",
    )
    full = ganomaly_run(make_config, "callbacks.learning_curve.every_n_epochs=1")
    assert [p["n_scored"] for p in sub["learning_curve"]] == [24] * 4
    full_auroc = {p["epoch"]: p["auroc"] for p in full["learning_curve"]}
    sub_auroc = {p["epoch"]: p["auroc"] for p in sub["learning_curve"]}
    assert sub_auroc != pytest.approx(full_auroc)  # the subsample and the split differ
    best = sub["epoch_choices"]["best_test_epoch"]
    assert best["curve_value"] == max(sub_auroc.values())
    assert best["auroc"] == pytest.approx(full_auroc[best["epoch"]], abs=1e-6)
    rule = sub["epoch_choices"]["lowest_normal_val_score"]
    val_scores = {p["epoch"]: p["normal_val_score"] for p in sub["learning_curve"]}
    assert rule["epoch"] == min(val_scores, key=val_scores.get)
    assert rule["auroc"] == pytest.approx(full_auroc[rule["epoch"]], abs=1e-6)
    # Scoring the kept weights put the final ones back: the headline is the plain run's.
    assert sub["auroc"] == full["auroc"] == plain["auroc"]
    assert "epoch_choices" not in plain


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


def test_a_subsampled_curve_reports_its_chosen_epochs_full_split_auroc_and_the_mean_row():
    """The best point on the subsample (epoch 2, 0.95) is not what the cell shows: the cell shows
    that epoch's full-split AUROC from `epoch_choices`."""
    rows = [
        curve_row(2, 0.74, [0.90, 0.95, 0.74])
        | {
            "run_key": "k2",
            "train_seconds": 130.0,
            "epoch_choices": {
                "best_test_epoch": {"epoch": 2, "auroc": 0.88, "score_seconds": 20.0}
            },
        },
        curve_row(8, 0.73, [0.80, 0.73]) | {"run_key": "k8", "train_seconds": 110.0},
    ]
    # Each fit: its points' training clock, then 5 s a point (and 20 s for the choice).
    for row, clock in zip(rows, ([30.0, 60.0, 95.0], [50.0, 100.0]), strict=True):
        for point, seconds in zip(row["learning_curve"], clock, strict=True):
            point |= {"score_seconds": 5.0, "train_seconds": seconds}
    text = curve_markdown(rows, load_paper_table(1))
    assert "| 2 | 0.7400 / 0.8800 (+0.1400, epoch 2) |" in text
    assert "| 8 | 0.7300 / 0.8000 (+0.0700, epoch 1) |" in text
    assert "| mean | 0.7350 / 0.8400 (+0.1050, 2 classes) |" in text
    # Curve seconds: 3 x 5 + 20 and 2 x 5 = 45; training: the curves' clocks, 95 + 100 = 195;
    # the points 25 s of them (13 %), the chosen epoch's scoring 20 s (10 %).
    assert (
        "| *curve cost (of training)* | whole split: 1 of 3 min (23 %: the points 13 %, the chosen "
        "epochs on the whole split 10 %) |"
    ) in text
    # Paper mean of classes 2 and 8: (0.8980 + 0.8770) / 2 = 0.8875; shortfall 0.1525.
    assert "ganomaly: paper 0.8875, last epoch 0.7350 (-0.1525), best test epoch 0.8400" in text
    assert "the epoch choice explains 69 % of the shortfall" in text


def test_the_mean_row_counts_a_class_once_however_many_seeds_it_has():
    """Class 2 with two seeds (last 0.70 and 0.80, best 0.90 and 1.00) and class 8 with one
    (0.90, best 0.95): the mean is over the two classes' seed means, as the table's own mean
    row is, not over the three runs (which gives 0.8000 / 0.9500)."""
    rows = [
        curve_row(2, 0.70, [0.90, 0.70]) | {"run_key": "k2s0"},
        curve_row(2, 0.80, [1.00, 0.80]) | {"run_key": "k2s1", "seed": 1},
        curve_row(8, 0.90, [0.95, 0.90]) | {"run_key": "k8"},
    ]
    text = curve_markdown(rows, load_paper_table(1))
    assert "| 2 | 0.7500 / 0.9500 (+0.2000, 2 seeds) |" in text
    assert "| mean | 0.8250 / 0.9500 (+0.1250, 2 classes) |" in text
    assert "ganomaly: paper 0.8875, last epoch 0.8250 (-0.0625), best test epoch 0.9500" in text


def test_the_cost_row_says_when_points_are_epochs_apart():
    sparse = curve_row(2, 0.74, [0.90, 0.95, 0.74]) | {"run_key": "k2"}
    for point, epoch in zip(sparse["learning_curve"], (4, 8, 12), strict=True):
        point |= {"epoch": epoch, "score_seconds": 30.0, "train_seconds": 40.0 * epoch}
    dense = curve_row(8, 0.73, [0.80, 0.73]) | {"run_key": "k8"}
    for point in dense["learning_curve"]:
        point |= {"score_seconds": 30.0, "train_seconds": 120.0 * point["epoch"]}
    text = curve_markdown([sparse, dense], load_paper_table(1))
    # 3 points of 30 s over 480 s of training; 2 points of 30 s over 240 s.
    assert (
        "| *curve cost (of training)* | whole split, a point every 4 epochs: 2 of 8 min (19 %); "
        "whole split: 1 of 4 min (25 %) |"
    ) in text


def test_the_columns_with_curves_are_ranked_at_the_last_and_the_best_test_epoch():
    """The best-test-epoch protocol can turn a ranking round: here mem_ganomaly is last at every
    class's last epoch and first at every best epoch; each ranking's Friedman p is scipy's over
    the same cells."""
    last = {"ganomaly": 0.90, "fanogan": 0.80, "mem_ganomaly": 0.70}
    best = {"ganomaly": 0.91, "fanogan": 0.81, "mem_ganomaly": 0.99}
    rows = [
        curve_row(c, last[m] + c / 100, [best[m] + c / 100, last[m] + c / 100])
        | {"method": m, "run_key": f"{m}{c}"}
        for c in range(4)
        for m in last
    ]
    table = load_paper_table(1)
    text = curve_markdown(rows, table)
    p_last = friedmanchisquare(*([last[m] + c / 100 for c in range(4)] for m in last)).pvalue
    p_best = friedmanchisquare(*([best[m] + c / 100 for c in range(4)] for m in best)).pvalue
    assert (
        "The columns with a curve, ranked on classes [0, 1, 2, 3] (each cell its seeds' mean): "
        f"at the last epoch, Friedman p = {p_last:.3g}; mean rank (1 = best): ganomaly 1.00, "
        "fanogan 2.00, mem_ganomaly 3.00;"
    ) in text
    assert (
        f"At the best test epoch, Friedman p = {p_best:.3g}; mean rank (1 = best): "
        "mem_ganomaly 1.00, ganomaly 2.00, fanogan 3.00;"
    ) in text
    assert "Not ranked yet" not in text
    one_more = curve_markdown([*rows, curve_row(0, 0.5, [0.6, 0.5]) | {"method": "memae"}], table)
    assert "mem_ganomaly 1.00" in one_more
    assert "Not ranked yet (too few classes with a curve): memae." in one_more
    few = curve_markdown(rows[:6], load_paper_table(1))
    assert "needs 3 of them with curves on the same 3 classes or more; not yet." in few
    two = curve_markdown([r for r in rows if r["method"] != "fanogan"], load_paper_table(1))
    assert "ranked" not in two and "Ranking" not in two


def test_a_single_point_at_the_last_epoch_is_no_curve_and_gets_no_column(tmp_path: Path):
    """iForest's one fit, recorded with a point before the callback stopped reading such runs:
    the page showed a column with its final test read twice and a cost of '0 of 0 min (310 %)'.
    A single point before the last epoch (an old sparse curve) is still a choice."""
    single_fit = curve_row(1, 0.65, [0.65]) | {"method": "iforest", "train_seconds": 2.0}
    curved = curve_row(1, 0.73, [0.80, 0.73])
    text = curve_markdown([single_fit, curved], load_paper_table(1))
    assert "iforest" not in text and "| 1 | 0.7300 / 0.8000 (+0.0700, epoch 1) |" in text
    assert last_and_best(single_fit) is None
    assert curve_markdown([single_fit], load_paper_table(1)) is None
    sparse = curve_row(1, 0.70, [0.90]) | {"epochs": 8}
    assert (last_and_best(sparse).best, last_and_best(sparse).best_epoch) == (0.90, 1)
    store = ResultsStore(tmp_path / "results")
    store.append(single_fit)
    paper_report(tmp_path / "results", 1, tmp_path / "report", curves=True)
    assert not list((tmp_path / "report").glob("*curves*"))


def test_a_rerun_counts_once_not_as_a_second_seed():
    first = curve_row(8, 0.70, [0.70]) | {"run_key": "same"}
    rerun = curve_row(8, 0.73, [0.80, 0.73]) | {"run_key": "same"}
    text = curve_markdown([first, rerun], load_paper_table(1))
    assert "| 8 | 0.7300 / 0.8000 (+0.0700, epoch 1) |" in text


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
    assert "Last epoch vs best test epoch" in text


def test_a_resumed_runs_time_counts_every_process_through_its_curve():
    points = [
        {"epoch": 1, "auroc": 0.7, "train_seconds": 600.0, "score_seconds": 20.0},
        {"epoch": 2, "auroc": 0.8, "train_seconds": 1200.0, "score_seconds": 20.0},
    ]
    # Killed after epoch 1 and resumed: the finishing process trained one epoch (610 s).
    resumed = {"auroc": 0.8, "train_seconds": 610.0, "learning_curve": points}
    assert fit_seconds(resumed) == 1240.0
    assert last_and_best(resumed).train_seconds == 1200.0
    whole = {"auroc": 0.8, "train_seconds": 1250.0, "learning_curve": points}
    assert fit_seconds(whole) == 1250.0
    assert fit_seconds({"auroc": 0.8, "train_seconds": 30.0}) == 30.0


def test_a_run_killed_mid_epoch_and_resumed_counts_each_processs_training_once(monkeypatch):
    """The resumed epoch gets no on_train_epoch_start; the clock starts at on_train_start, and
    the seconds before the kill come back from the checkpoint."""
    clock = iter([100.0, 130.0, 5000.0, 5050.0])  # perf_counter of two processes
    monkeypatch.setattr("anomaly_bench.engine.callbacks.learning_curve.time.perf_counter",
                        lambda: next(clock))  # fmt: skip
    trainer = SimpleNamespace(current_epoch=0, fast_dev_run=False)
    killed = LearningCurve(every_n_epochs=0)
    killed.on_train_start(trainer, None)  # 100: the first process starts epoch 0
    saved = killed.state_dict()  # 130: killed mid-epoch, its 30 s in the checkpoint
    resumed = LearningCurve(every_n_epochs=0)
    resumed.load_state_dict(saved)
    resumed.on_train_start(trainer, None)  # 5000 in the new process, mid-epoch 0
    resumed.on_train_epoch_end(trainer, None)  # 5050
    assert saved["train_seconds"] == 30.0 and resumed.train_seconds == 80.0


def test_a_resumed_epochs_clock_fault_in_an_old_row_is_taken_as_a_median_epoch():
    from anomaly_bench.reporting.curves import clock_repaired, curve_points

    seconds = [60.0, 121.0, 45_000.0, 45_061.0, 45_120.0]  # epoch 3 counted from the boot
    row = {"auroc": 0.9, "train_seconds": 200.0,
           "learning_curve": [{"epoch": e + 1, "auroc": 0.8, "train_seconds": s}
                              for e, s in enumerate(seconds)]}  # fmt: skip
    assert [p["train_seconds"] for p in curve_points(row)] == [60.0, 121.0, 182.0, 243.0, 302.0]
    assert clock_repaired(row) and fit_seconds(row) == 302.0
    steady = {**row, "learning_curve": row["learning_curve"][:2]}  # too short to judge: as is
    assert not clock_repaired(steady) and curve_points(steady)[-1]["train_seconds"] == 121.0


def test_a_curve_that_starts_after_a_first_stage_is_not_taken_for_a_clock_fault():
    """Deep SVDD's curve starts after 150 pretraining epochs: its first step spans 151 epochs
    (here 450 s, three times a later epoch's rate), long but no fault; a fault in a later epoch
    is still found and taken at the median rate."""
    from anomaly_bench.reporting.curves import clock_repaired, curve_points

    late = [{"epoch": 150 + e, "auroc": 0.8, "train_seconds": 450.0 + e} for e in range(1, 6)]
    row = {"auroc": 0.9, "train_seconds": 455.0, "learning_curve": late}
    assert not clock_repaired(row) and curve_points(row) == late
    faulty = [*late[:3], *({**p, "train_seconds": p["train_seconds"] + 40_000} for p in late[3:])]
    repaired = curve_points({**row, "learning_curve": faulty})
    assert [p["train_seconds"] for p in repaired] == [451.0, 452.0, 453.0, 454.0, 455.0]
