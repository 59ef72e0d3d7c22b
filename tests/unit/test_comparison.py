import csv
import io
import os
import statistics
import subprocess
import sys

import pandas as pd
import pytest

from anomaly_bench.reporting.comparison import (
    per_class_comparison,
    rates_comparison,
    to_csv,
    to_latex,
    to_markdown,
)
from anomaly_bench.reporting.frame import cell_stats
from anomaly_bench.reporting.paper_tables import load_paper_table
from anomaly_bench.reporting.tables import paper_report
from anomaly_bench.store.results import ResultsStore


def row(method, normal_class, seed, auroc, status="ok", dataset="mnist", **metrics):
    return {"method": method, "dataset": dataset, "protocol": "paper", "normal_class": normal_class,
            "seed": seed, "auroc": auroc, "status": status, "threshold_source": "test_youden",
            "select_epoch_on_test": False, **metrics}  # fmt: skip


ROWS = [
    row("ganomaly", 0, 0, 0.99), row("ganomaly", 0, 1, 0.97), row("ganomaly", 1, 0, 0.995),
    row("memae", 0, 0, 0.80), row("memae", 1, 0, 0.10, status="failed"),
    row("anogan", 1, 0, 0.95), row("ganomaly", 2, 0, 0.5, dataset="fmnist"),
]  # fmt: skip


def test_cells_hold_ours_with_std_the_paper_and_the_delta_and_blank_where_no_run():
    comparison = per_class_comparison(ROWS, load_paper_table(1), "auroc")
    cell = comparison.cells[("0", "ganomaly")]
    assert cell.ours == pytest.approx(0.98) and cell.seeds == 2
    assert cell.std == pytest.approx(statistics.stdev([0.99, 0.97]))
    assert cell.paper == 0.9890 and cell.delta == pytest.approx(0.98 - 0.9890)
    assert comparison.cells[("1", "memae")].ours is None  # failed: blank, not 0.1, not 0
    assert comparison.cells[("2", "ganomaly")].ours is None  # the fmnist row is another table
    assert comparison.columns[-1] == "anogan"  # not in the paper: after its seven columns
    assert comparison.cells[("1", "anogan")].paper is None


def test_the_mean_row_covers_the_classes_run_on_both_sides():
    comparison = per_class_comparison(ROWS, load_paper_table(1), "auroc")
    assert comparison.rows[-1] == "mean of classes 0,1"
    mean = comparison.cells[("mean of classes 0,1", "ganomaly")]
    assert mean.ours == pytest.approx((0.98 + 0.995) / 2)
    assert mean.paper == pytest.approx((0.9890 + 0.9990) / 2)
    assert comparison.cells[("mean of classes 0,1", "memae")].ours is None  # class 1 missing


def test_markdown_and_csv_layout():
    comparison = per_class_comparison(ROWS, load_paper_table(1), "auroc")
    lines = to_markdown(comparison).splitlines()
    assert (
        "|  | iforest | dagmm | fanogan | memae | ganomaly | deep_svdd | mem_ganomaly | anogan |"
        in lines
    )
    std = statistics.stdev([0.99, 0.97])
    assert any(
        line.startswith(
            "| 0 | (0.8816) | (0.7827) | (0.9763) | 0.8000 (0.9690, -0.1690) | "
            f"0.9800 ± {std:.4f} n=2 (0.9890, -0.0090)"
        )
        for line in lines
    )
    assert any("select_epoch_on_test: False" in line for line in lines)
    records = list(csv.DictReader(io.StringIO(to_csv(comparison))))
    assert len(records) == 11 * 8 and records[0]["column"] == records[0]["method"] == "iforest"
    assert {r["ours"] for r in records if r["method"] == "dagmm"} == {""}


def test_the_pivot_averages_only_finite_numbers_per_cell_like_statistics():
    rows = [
        row("memae", 0, 0, 0.91), row("memae", 0, 1, 0.83), row("memae", 0, 2, 0.86),
        row("memae", 0, 3, float("nan")), row("memae", 0, 4, None), row("memae", 0, 5, True),
        row("memae", 1, 0, None, warnings=["memory collapsed"]), row("memae", 2, 0, 0.5, "failed"),
    ]  # fmt: skip
    stats = cell_stats(rows, "auroc")
    zero = stats.loc[(0, "memae")]
    assert zero["mean"] == pytest.approx(statistics.fmean([0.91, 0.83, 0.86]), abs=1e-15)
    assert zero["std"] == pytest.approx(statistics.stdev([0.91, 0.83, 0.86]), abs=1e-15)
    assert zero["seeds"] == 3 and not zero["warned"]
    one = stats.loc[(1, "memae")]
    assert one["seeds"] == 0 and one["warned"]  # a cell with no number: no mean, still flagged
    assert 2 not in stats.index.get_level_values("class")  # failed: no cell at all


def test_latex_escapes_what_latex_would_read_as_markup():
    rows = [row("ganomaly", 0, 0, 0.99), row("deep_svdd", 0, 0, 0.9)]
    tex = to_latex(per_class_comparison(rows, load_paper_table(1), "auroc"))
    assert r"deep\_svdd" in tex and "deep_svdd" not in tex
    assert r"0 & (0.8816) &" in tex and tex.rstrip().endswith(r"\end{tabular}")


def test_table4_compares_the_mean_rates_over_the_classes_run():
    rows = [row("ganomaly", c, 0, 0.9, gmean=g, false_alarm_rate=0.1, miss_rate=0.2)
            for c, g in ((0, 0.8), (1, 0.9))]  # fmt: skip
    comparison = rates_comparison(rows, load_paper_table(4))
    assert comparison.cells[("gmean", "ganomaly")].ours == pytest.approx(0.85)
    assert comparison.cells[("gmean", "ganomaly")].paper == 0.9013
    assert "classes [0, 1] only" in comparison.title


def test_paper_report_writes_markdown_csv_latex_and_png(tmp_path):
    store = ResultsStore(tmp_path / "results")
    for r in ROWS:
        store.append(r)
    text = paper_report(tmp_path / "results", 1, tmp_path / "report")
    assert "Table 1" in text
    for suffix in ("md", "csv", "tex", "png"):
        assert (tmp_path / "report" / f"table1.{suffix}").stat().st_size > 0
    assert r"\begin{tabular}" in (tmp_path / "report" / "table1.tex").read_text()


def test_the_report_says_how_long_the_grid_kept_each_device_busy(tmp_path):
    """Five `ok` MNIST runs started together, each training and scoring for 120 s: the grid
    took 2 minutes of wall time, not the 10 its runs add up to; the failed and the Fashion-MNIST
    runs are not the table's."""
    store = ResultsStore(tmp_path / "results")
    for r in ROWS:
        store.append({**r, "timestamp": "2026-12-01T10:00:00+00:00", "train_seconds": 90.0,
                      "test_seconds": 30.0, "device": "NVIDIA A100"})  # fmt: skip
    text = paper_report(tmp_path / "results", 1, tmp_path / "report")
    assert "NVIDIA A100 2.0 min (5 runs)." in text
    assert "Wall time" in (tmp_path / "report" / "table1.md").read_text()
    assert "Wall time" not in paper_report(tmp_path / "untimed", 1, tmp_path / "r2")


def test_the_comparison_goes_to_an_offline_wandb_report_run(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    store = ResultsStore(tmp_path / "results")
    for r in ROWS:
        store.append(r)
    text = paper_report(tmp_path / "results", 1, tmp_path / "report", wandb_project="ab-test")
    [run_dir] = (tmp_path / "report" / "wandb").glob("offline-run-*")
    assert str(run_dir) in text
    assert list(run_dir.glob("*.wandb"))  # the logged table and image, ready for `wandb sync`


def test_a_grid_with_enough_runs_gets_friedman_nemenyi_and_a_cd_diagram(tmp_path):
    store = ResultsStore(tmp_path / "results")
    quality = {"ganomaly": 0.95, "memae": 0.85, "iforest": 0.75, "dagmm": 0.70}
    for normal_class in range(5):
        for seed in (0, 1):
            for method, auroc in quality.items():
                store.append(row(method, normal_class, seed, auroc - 0.01 * seed))
    text = paper_report(tmp_path / "results", 1, tmp_path / "report")
    assert (
        "Friedman test over classes [0, 1, 2, 3, 4] (each method's mean over its seeds): p = "
        in text
    )
    assert "mean rank (1 = best): ganomaly 1.00, memae 2.00, iforest 3.00, dagmm 4.00" in text
    assert (tmp_path / "report" / "table1_cd.png").stat().st_size > 0


def test_too_few_runs_for_the_tests_are_said_so(tmp_path):
    store = ResultsStore(tmp_path / "results")
    for r in ROWS:
        store.append(r)
    assert "no critical-difference diagram" in paper_report(tmp_path / "results", 1, tmp_path)


def test_while_a_grid_fills_the_methods_with_every_class_are_ranked_and_the_rest_named(tmp_path):
    store = ResultsStore(tmp_path / "results")
    quality = {"ganomaly": 0.95, "memae": 0.85, "iforest": 0.75}
    for normal_class in range(5):
        for method, auroc in quality.items():
            store.append(row(method, normal_class, 0, auroc))
    store.append(row("dagmm", 0, 0, 0.99))  # one class so far
    text = paper_report(tmp_path / "results", 1, tmp_path / "report")
    assert "Friedman test over classes [0, 1, 2, 3, 4]" in text
    assert "ganomaly vs iforest (p = " in text  # ranks 1 and 3 on five classes: significant
    assert "memae vs iforest" not in text and "ganomaly vs memae" not in text
    assert "Not ranked (classes still to run): dagmm." in text


def test_with_too_few_complete_methods_every_method_is_ranked_on_the_classes_all_have():
    from anomaly_bench.reporting.significance import tested_grid

    nan = float("nan")
    grid = pd.DataFrame(
        {"a": [0.9, 0.8, 0.7, 0.6], "b": [0.5, 0.6, 0.7, 0.8], "c": [0.4, 0.3, 0.2, nan],
         "d": [nan] * 4},
    )  # fmt: skip
    tested = tested_grid(grid, ["a", "b", "c", "d"])
    assert list(tested.columns) == ["a", "b", "c"] and list(tested.index) == [0, 1, 2]
    assert list(tested_grid(grid, ["a", "b"]).index) == [0, 1, 2, 3]  # c and d not asked for


def test_a_column_with_one_class_is_left_out_rather_than_emptying_the_comparison():
    """Three columns share classes 0-2; a fourth has run class 0 only: ranking all four on their
    one shared class would rank nothing, so the fourth waits."""
    from anomaly_bench.reporting.significance import tested_grid

    nan = float("nan")
    grid = pd.DataFrame(
        {"a": [0.9, 0.8, 0.7, 0.6], "b": [0.5, 0.6, 0.7, 0.8], "c": [0.4, 0.3, 0.2, nan],
         "d": [0.1, nan, nan, nan]},
    )  # fmt: skip
    tested = tested_grid(grid, ["a", "b", "c", "d"])
    assert list(tested.columns) == ["a", "b", "c"] and list(tested.index) == [0, 1, 2]


DRAW_A_CD_DIAGRAM = """
import sys
from pathlib import Path

import pandas as pd

from anomaly_bench.reporting.significance import Significance, save_cd_diagram

names = ["ganomaly", "memae", "iforest", "dagmm", "fanogan", "deep_svdd"]
ranks = pd.Series([1.5, 2.0, 3.0, 3.5, 4.0, 5.0], index=names)
nemenyi = pd.DataFrame(1.0, index=names, columns=names)  # one crossbar under all six
save_cd_diagram(Significance(0.5, ranks, nemenyi, [0, 1, 2]), "t", Path(sys.argv[1]))
"""


def test_a_cd_diagram_is_the_same_picture_in_every_process(tmp_path):
    """The committed pages regenerate byte-identical: Python's hash seed, which changes from
    process to process, must not reach the picture."""
    pictures = []
    for hash_seed in ("1", "2", "3"):
        path = tmp_path / f"cd_{hash_seed}.png"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed, "MPLBACKEND": "Agg"}
        subprocess.run([sys.executable, "-c", DRAW_A_CD_DIAGRAM, str(path)], env=env, check=True)
        pictures.append(path.read_bytes())
    assert pictures[0] == pictures[1] == pictures[2]
