"""`anomaly-bench batchnorm-check`: a finished run read again from its row and checkpoint, with
BatchNorm on running statistics (which gives the row's AUROC) and on each batch's own; runs
without BatchNorm are named (a gone checkpoint: test_rebuilt_runs.py)."""

import pytest

from anomaly_bench.cli import main
from tests.integration.rebuilt_runs import quick_run, table_lines


def test_running_statistics_give_the_row_and_batch_statistics_another_reading(
    make_config, tmp_path, capsys
):
    ganomaly = quick_run(make_config, "ganomaly")
    iforest = quick_run(make_config, "iforest")  # no BatchNorm: left out, named
    assert main(["batchnorm-check", "--results-dir", str(tmp_path / "results")]) == 0
    printed = capsys.readouterr()
    [[key, row, running, one, shuffled, normal_first]] = table_lines(printed.out)
    assert key == ganomaly["run_key"]
    assert row == running == f"{ganomaly['auroc']:.4f}"
    # One epoch's running statistics are far from a batch's: the readings differ.
    assert running not in (one, shuffled, normal_first)
    assert f"left out (no BatchNorm layer): {iforest['run_key']}" in printed.err


def test_a_store_without_a_batchnorm_run_is_refused_naming_what_is_allowed(
    make_config, tmp_path, capsys
):
    quick_run(make_config, "iforest")
    with pytest.raises(SystemExit) as stopped:
        main(["batchnorm-check", "--results-dir", str(tmp_path / "results")])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "none of the 1 finished runs in" in err
    assert "has a BatchNorm layer; allowed: runs of a method whose networks have one" in err
