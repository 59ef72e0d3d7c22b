"""`make demo`'s grid at a tiny budget, so it cannot rot."""

import subprocess
import sys

import pytest

from anomaly_bench.store.results import ResultsStore

# End to end: the demo grid in a subprocess.
pytestmark = pytest.mark.slow


def test_the_demo_compares_methods_one_line_per_run_then_the_table(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "anomaly_bench.demo", "--classes", "0,1,2",
         "--models", "iforest,deep_svdd,memae", "--epochs", "2", "--results", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    runs = [line for line in out.splitlines() if line.startswith("run ")]
    assert len(runs) == 9 and runs[0].startswith("run 1/9: iforest, digits class 0: AUROC ")
    # No line of Lightning's noise on either stream: banners, tips, the optimiser-less warning.
    noise = ("GPU available", "TPU available", "Seed set", "Test metric", "💡", "Lightning",
             "configure_optimizers", "UserWarning", "Restoring states")  # fmt: skip
    assert not [line for line in (out + done.stderr).splitlines() if any(n in line for n in noise)]
    assert "| class | deep_svdd (epochs 2" in out and "| mean |" in out
    assert "mean rank (1 = best) over classes [0, 1, 2]" in out
    for name in ("demo.md", "demo.png", "demo_cd.png"):
        assert (tmp_path / "report" / name).stat().st_size > 0
    assert len(ResultsStore(tmp_path).read()) == 9
