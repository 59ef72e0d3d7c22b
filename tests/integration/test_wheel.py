"""A built wheel carries its configs: installed apart from the checkout, it trains."""

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT


@pytest.mark.slow
def test_a_built_wheel_runs_a_smoke_run_from_outside_the_checkout(tmp_path):
    pip = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]
    built = tmp_path / "wheel"
    subprocess.run(
        [*pip, "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-w", str(built)],
        check=True,
    )
    wheel = next(built.glob("anomaly_bench-*.whl"))
    site = tmp_path / "site"
    subprocess.run([*pip, "install", "--no-deps", "--target", str(site), str(wheel)], check=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "WANDB_MODE": "disabled"}
    where = subprocess.run(
        [sys.executable, "-c", "import anomaly_bench; print(anomaly_bench.CONF_DIR)"],
        cwd=elsewhere, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip() == str(site / "anomaly_bench" / "conf")
    smoke_run = ["anomaly_bench.train", "data=synthetic", "trainer.fast_dev_run=true"]
    run = subprocess.run(
        [sys.executable, "-m", *smoke_run],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    rows = [json.loads(line) for line in (elsewhere / "results" / "results.jsonl").open()]
    assert [(r["status"], r["smoke"]) for r in rows] == [("ok", True)]
