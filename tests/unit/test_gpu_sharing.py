"""The MPS daemon around a matrix cell or a queue, with a stand-in for NVIDIA's control program
(no GPU here): started before the body, asked to quit after it whatever happens, its folders
named to the processes started inside, and a clear refusal where it cannot run."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from anomaly_bench.benchmarks.speed_matrix import Deadline, matrix
from anomaly_bench.engine.gpu_sharing import (
    CONTROL,
    JOBS_VARIABLE,
    PIPE_VARIABLE,
    MpsUnavailableError,
    device_sharing,
    mps_daemon,
    sharing_environment,
)
from anomaly_bench.gpu_session import main
from anomaly_bench.settings.bench_settings import BenchSettings

FAKE_CONTROL = """#!/bin/sh
echo "$* pipe=$CUDA_MPS_PIPE_DIRECTORY" >> "$MPS_FAKE_LOG"
if [ "$1" = "-d" ]; then
  if [ -n "$MPS_FAKE_FAIL" ]; then echo "cannot start: no device" >&2; exit 3; fi
else
  while read -r line; do echo "$line" >> "$MPS_FAKE_LOG"; done
fi
"""


@pytest.fixture
def fake_control(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A control program on PATH that logs its calls; the log's path."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    program = bin_dir / CONTROL
    program.write_text(FAKE_CONTROL)
    program.chmod(0o755)
    log = tmp_path / "calls.log"
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("MPS_FAKE_LOG", str(log))
    monkeypatch.delenv(PIPE_VARIABLE, raising=False)
    return log


def test_the_daemon_runs_for_the_body_and_is_asked_to_quit_even_when_the_body_fails(
    fake_control: Path, tmp_path: Path
):
    with pytest.raises(RuntimeError, match="a run failed"), mps_daemon(tmp_path / "mps"):
        assert os.environ[PIPE_VARIABLE] == str(tmp_path / "mps" / "pipe")
        assert fake_control.read_text().splitlines() == [f"-d pipe={tmp_path}/mps/pipe"]
        raise RuntimeError("a run failed")
    assert fake_control.read_text().splitlines()[1:] == [f" pipe={tmp_path}/mps/pipe", "quit"]
    assert PIPE_VARIABLE not in os.environ


def test_a_run_records_the_queues_jobs_and_whether_it_ran_under_the_daemon(
    fake_control: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A run started by the GPU queue finds its jobs in its environment; one started inside
    the daemon, its pipe; a grid's run, its launcher's jobs."""
    shared_gpu = {"_target_": "hydra_plugins.hydra_joblib_launcher.JoblibLauncher", "n_jobs": 14}
    assert device_sharing(shared_gpu) == {"device_jobs": 14, "device_mps": False}
    assert sharing_environment(28)[JOBS_VARIABLE] == "28"
    monkeypatch.setenv(JOBS_VARIABLE, "28")
    with mps_daemon(tmp_path / "mps"):
        assert device_sharing(None) == {"device_jobs": 28, "device_mps": True}
    assert device_sharing(None) == {"device_jobs": 28, "device_mps": False}
    for bad in ("many", "0"):
        monkeypatch.setenv(JOBS_VARIABLE, bad)
        with pytest.raises(ValueError, match=f"DEVICE_JOBS='{bad}': allowed a positive whole"):
            device_sharing(None)


def test_a_daemon_that_cannot_start_is_refused_with_why(fake_control, monkeypatch, tmp_path):
    monkeypatch.setenv("MPS_FAKE_FAIL", "1")
    refused = "-d exited with 3: cannot start: no device"
    with pytest.raises(MpsUnavailableError, match=refused), mps_daemon(tmp_path / "mps"):
        pytest.fail("the body ran without the daemon")
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    with pytest.raises(MpsUnavailableError, match=f"{CONTROL} is not on PATH"), mps_daemon():
        pytest.fail("the body ran without the daemon")


def test_the_matrix_measures_mps_only_where_jobs_share_and_records_why_it_could_not(
    monkeypatch, tmp_path
):
    monkeypatch.setenv("PATH", str(tmp_path))  # no control program: refused before any process
    settings = BenchSettings(train_steps=1, score_batches=1)
    cells = list(matrix(["ganomaly"], ["mps"], [1, 14], settings, 1, Deadline(None)))
    assert [(c["variant"], c["jobs"]) for c in cells] == [("mps", 14)]
    assert cells[0]["error"].startswith(f"MpsUnavailableError: {CONTROL} is not on PATH")


def run_session(tmp_path: Path, monkeypatch, *options: str) -> dict:
    """`gpu_session run` with a queue that records whether the daemon's folder was set while
    it ran; its summary."""
    import anomaly_bench.engine.session_steps as session

    seen = []

    def records_sharing(*args, **kwargs):
        seen.append(os.environ.get(PIPE_VARIABLE))
        return session.QueueReport()

    monkeypatch.setattr(session, "run_queue", records_sharing)
    queue = tmp_path / "queue.yaml"
    queue.write_text("steps: []\n")
    out = tmp_path / "out"
    main(["run", "--out", str(out), "--queue", str(queue), "--results-dir",
                  str(tmp_path / "store"), "--committed", str(tmp_path / "committed"),
                  "--data-dir", str(tmp_path), "--device", "X", *options])  # fmt: skip
    summary = json.loads((out / "queue_summary.json").read_text())
    return {"sharing": summary["sharing"], "pipe": seen[0]}


def test_a_queue_asked_for_mps_runs_under_it_and_without_it_where_it_cannot_start(
    fake_control, monkeypatch, tmp_path, capsys
):
    under = run_session(tmp_path, monkeypatch, "--mps")
    assert under["sharing"] == "MPS" and under["pipe"].endswith("pipe")
    assert fake_control.read_text().splitlines()[-1] == "quit"
    assert run_session(tmp_path, monkeypatch) == {"sharing": "time-slicing", "pipe": None}
    monkeypatch.setenv("MPS_FAKE_FAIL", "1")
    assert run_session(tmp_path, monkeypatch, "--mps") == {"sharing": "time-slicing", "pipe": None}
    assert (
        "cannot start: no device; the runs share the GPU by time-slicing" in capsys.readouterr().out
    )
