"""A bad row in the store costs only itself: skipped with its line number and why, never a
crash of the report or of skip_done; the report's own bad inputs are named errors."""

import json
import logging

import pytest

from anomaly_bench.cli import main
from anomaly_bench.reporting.tables import report
from anomaly_bench.store.results import ResultsStore

GOOD = {
    "status": "ok", "method": "iforest", "dataset": "mnist", "protocol": "paper",
    "normal_class": 0, "seed": 0, "auroc": 0.75, "run_key": "iforest_good",
    "config": {"model": {"_target_": "anomaly_bench.models.iforest.Iforest"}},
}  # fmt: skip

BAD_LINES = {
    "no dataset": json.dumps({k: v for k, v in GOOD.items() if k != "dataset"}),
    "auroc as a string": json.dumps(GOOD | {"auroc": "0.9"}),
    "auroc NaN": json.dumps(GOOD | {"auroc": float("nan")}),
    "auroc huge": json.dumps(GOOD | {"auroc": 1e308}),
    "ok without auroc": json.dumps({k: v for k, v in GOOD.items() if k != "auroc"}),
    "class as a string": json.dumps(GOOD | {"normal_class": "0"}),
    "class as a boolean": json.dumps(GOOD | {"normal_class": True}),
    "seed as a float": json.dumps(GOOD | {"seed": 0.5}),
    "leave_one_out without its class": json.dumps(GOOD | {"protocol": "leave_one_out"}),
    "unknown status": json.dumps(GOOD | {"status": "done"}),
    "a list": json.dumps([GOOD]),
    "a number": "3",
    "deeply nested": "[" * 100_000 + "]" * 100_000,
    "torn": json.dumps(GOOD)[:40],
    "method as a dict": json.dumps(GOOD | {"method": {"a": 1}}),
}


@pytest.mark.parametrize("case", list(BAD_LINES))
def test_a_bad_row_is_skipped_naming_its_line_and_the_report_still_runs(tmp_path, caplog, case):
    store = ResultsStore(tmp_path)
    store.append(GOOD)
    with store.path.open("a") as f:
        f.write(BAD_LINES[case] + "\n")
    store.append(GOOD | {"normal_class": 1, "auroc": 0.5, "run_key": "iforest_good_1"})
    with caplog.at_level(logging.WARNING):
        rows = store.read()
    assert [r["normal_class"] for r in rows] == [0, 1]
    assert f"{store.path} line 2 skipped: " in caplog.text
    text = report(tmp_path)
    assert "| 0 | 0.7500 |" in text and "| 1 | 0.5000 |" in text
    assert store.latest_ok("iforest_good")["auroc"] == 0.75


def test_a_saved_config_whose_target_has_no_module_costs_neither_skip_done_nor_the_report(
    tmp_path,
):
    store = ResultsStore(tmp_path)
    store.append(GOOD | {"run_key": "odd", "config": {"model": {"_target_": "foo"}}})
    store.append(GOOD | {"normal_class": 1})
    assert store.latest_ok("odd")["normal_class"] == 0
    assert store.latest_ok("iforest_good")["normal_class"] == 1
    assert "| 1 | 0.7500 |" in report(tmp_path)


def test_a_metric_that_is_not_a_number_says_so(tmp_path):
    ResultsStore(tmp_path).append(GOOD)
    assert "no ok rows with 'run_id' as a number" in report(tmp_path, metric="run_id")


def report_cli(capsys, *args: str) -> tuple[int, str]:
    """`anomaly-bench report ARGS` in this process: its exit status and what it wrote to stderr."""
    with pytest.raises(SystemExit) as stopped:
        main(["report", *args])
    return stopped.value.code, capsys.readouterr().err


def test_a_missing_results_dir_is_an_error(tmp_path, capsys):
    status, err = report_cli(capsys, "--results-dir", str(tmp_path / "nowhere"))
    assert status == 2 and "nowhere holds no results.jsonl" in err
    # What a newcomer whose first command is `report` needs: where rows come from.
    assert "`anomaly-bench train ...` writes into results" in err and "docs/results" in err


def test_a_filter_that_keeps_no_row_says_so(tmp_path, capsys):
    ResultsStore(tmp_path).append(GOOD)
    status, err = report_cli(capsys, "--results-dir", str(tmp_path), "--where", "method=memae")
    assert status == 2 and "--where method=memae kept none of the 1 rows" in err
