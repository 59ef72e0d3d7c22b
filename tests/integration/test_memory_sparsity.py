"""`anomaly-bench memory-sparsity`: a finished run's memory read again from its row and checkpoint
gives what the run recorded; runs without a memory are named (a gone checkpoint:
test_rebuilt_runs.py)."""

import pytest

from anomaly_bench.cli import main
from tests.integration.rebuilt_runs import quick_run, table_lines


def test_a_memory_read_again_equals_what_the_run_recorded(make_config, tmp_path, capsys):
    memae = quick_run(make_config, "memae")
    quick_run(make_config, "iforest")  # no memory: left out of the default selection
    assert main(["memory-sparsity", "--results-dir", str(tmp_path / "results")]) == 0
    [[key, slots, normal, anomalous]] = table_lines(capsys.readouterr().out)
    assert key == memae["run_key"] and slots == str(memae["config"]["model"]["memory_size"])
    assert normal == f"{memae['nonzero_slots_normal']:.2f}"  # the row's figure, as printed
    assert anomalous == f"{memae['nonzero_slots_anomalous']:.2f}"  # the row's figure, as printed
    assert float(normal) > 1  # a memory that reads several slots, not a collapsed one


def test_runs_without_a_memory_are_refused_naming_the_methods_that_have_one(
    make_config, tmp_path, capsys
):
    quick_run(make_config, "iforest")
    with pytest.raises(SystemExit) as stopped:
        main(["memory-sparsity", "--results-dir", str(tmp_path / "results"), "--run-key", "if"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "none of the 1 finished runs whose keys start if in" in err
    assert "has a memory; allowed: runs of memae, mem_ganomaly" in err
