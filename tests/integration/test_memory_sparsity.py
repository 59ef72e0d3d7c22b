"""`anomaly-bench memory-sparsity`: a finished run's memory read again from its row and checkpoint
gives what the run recorded; runs without a memory, or without their checkpoint, are named."""

import pytest

from anomaly_bench.cli import main
from anomaly_bench.engine.run import train


def quick_run(make_config, model: str) -> dict:
    return train(
        make_config(
            f"model={model}",
            "data=synthetic",
            "trainer.max_epochs=1",
            "trainer.enable_progress_bar=false",
        )
    )


def table_lines(output: str) -> list[list[str]]:
    return [line.strip("| ").split(" | ") for line in output.splitlines()[2:]]


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


def test_a_run_whose_checkpoint_is_gone_is_named_and_the_exit_status_says_so(
    make_config, tmp_path, capsys
):
    memae = quick_run(make_config, "memae")
    (tmp_path / memae["config"]["paths"]["checkpoint_dir"] / "last.ckpt").unlink()
    assert main(["memory-sparsity", "--results-dir", str(tmp_path / "results")]) == 1
    printed = capsys.readouterr()
    assert table_lines(printed.out) == []
    assert f"{memae['run_key']}: not read: no checkpoint at" in printed.err
