"""Every verb that rebuilds finished runs from their checkpoints names a run whose checkpoint is
gone, prints no line for it, and says so in its exit status."""

import pytest

from anomaly_bench.cli import main
from tests.integration.rebuilt_runs import quick_run, table_lines

VERBS_AND_A_METHOD_THEY_READ = [("memory-sparsity", "memae"), ("batchnorm-check", "ganomaly")]


@pytest.mark.parametrize(("verb", "model"), VERBS_AND_A_METHOD_THEY_READ)
def test_a_run_whose_checkpoint_is_gone_is_named_and_the_exit_status_says_so(
    make_config, tmp_path, capsys, verb, model
):
    run = quick_run(make_config, model)
    (tmp_path / run["config"]["paths"]["checkpoint_dir"] / "last.ckpt").unlink()
    assert main([verb, "--results-dir", str(tmp_path / "results")]) == 1
    printed = capsys.readouterr()
    assert table_lines(printed.out) == []
    assert f"{run['run_key']}: not read: no checkpoint at" in printed.err
