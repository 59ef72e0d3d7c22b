"""Collapse is visible: sparsity in the row, a warning for a collapsed memory, marked cells."""

import subprocess
import sys

import pytest

from anomaly_bench.reporting.tables import report
from anomaly_bench.store.results import ResultsStore
from tests.conftest import run_cli_isolated

# End to end: training runs and the memory_sparsity entry point in a subprocess.
pytestmark = pytest.mark.slow


def mem_ganomaly(tmp_path, *overrides):
    tmp_path.mkdir(exist_ok=True)
    done = run_cli_isolated(
        "model=mem_ganomaly",
        "data=synthetic",
        "trainer.max_epochs=10",
        "trainer.enable_progress_bar=false",
        f"hydra.run.dir={tmp_path / 'run'}",
        *overrides,
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return ResultsStore(tmp_path / "results").read()[-1]


def test_the_printed_learning_rate_collapses_and_is_flagged_the_default_is_not(tmp_path):
    default = mem_ganomaly(tmp_path / "default")
    assert "warnings" not in default
    assert default["nonzero_slots_normal"] > 1 and default["nonzero_slots_anomalous"] > 1

    printed = mem_ganomaly(tmp_path / "printed", "model.optimizer.lr=2e-3")
    assert printed["status"] == "ok"
    assert printed["nonzero_slots_normal"] == printed["nonzero_slots_anomalous"] == 1.0
    [warning] = printed["warnings"]
    assert warning.startswith("memory collapse: every test image reads a single memory slot of 100")

    lines = report(tmp_path / "printed" / "results").splitlines()
    assert any(line.startswith("| 0 | ") and line.endswith(" (!) |") for line in lines)
    assert any("(!) = a run of this cell ended with a warning" in line for line in lines)


def test_the_sparsity_command_reads_a_fresh_runs_memory_as_the_run_recorded_it(tmp_path):
    row = mem_ganomaly(tmp_path, "trainer.max_epochs=2")
    done = subprocess.run(
        [sys.executable, "-m", "anomaly_bench.memory_sparsity", "--results-dir", "results"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    key, slots, normal, anomalous = done.stdout.splitlines()[-1].strip("| ").split(" | ")
    assert (key, slots) == (row["run_key"], "100")
    assert normal == f"{row['nonzero_slots_normal']:.2f}"  # the row's figure, as printed
    assert anomalous == f"{row['nonzero_slots_anomalous']:.2f}"  # the row's figure, as printed
    assert float(normal) > 1 and float(anomalous) > 1
