"""A grid survives bad values, diverging and killed runs: every job's row says what happened."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from omegaconf import DictConfig, open_dict

from anomaly_bench.engine.run import train
from anomaly_bench.store.results import ResultsStore
from tests.conftest import ROOT, run_cli, run_cli_isolated


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["trainer.max_epochs=0"], "trainer.max_epochs=0 is not allowed; allowed: a positive"),
        (["data.image_size=20"], "image_size=20 is not allowed; allowed: 16, 32, 64, 128, 256"),
        (["data.protocol=mine"], "protocol='mine' is not allowed; allowed: paper, standard"),
        (["model=fanogan", "model.encoder=zz"], "encoder='zz' is not allowed; allowed: ziz, izi"),
        (["model=deep_svdd", "model.objective=hard"], "objective='hard' is not allowed"),
        # Strings that happen to be truthy, numbers of the wrong kind, keys nobody reads.
        (["resume=no"], "resume='no' is not allowed; allowed: true, false"),
        (["skip_done=no"], "skip_done='no' is not allowed; allowed: true, false"),
        (["seed=a"], "seed='a' is not allowed; allowed: an integer >= 0"),
        (["cpu_threads=1.5"], "cpu_threads=1.5 is not allowed; allowed: a positive integer"),
        (["+no_such_top=1"], "no_such_top is not a setting of a run; allowed top-level keys"),
        (["data.normal_class=true"], "normal_class=True is not allowed; allowed: 0, 1"),
        (["data.normal_class=1.0"], "normal_class=1.0 is not allowed; allowed: 0, 1"),
        (["model.latent_dim=2.5"], "model.latent_dim=2.5 is not allowed; allowed: a positive int"),
        (["model=memae", "model.memory_size=2.5"], "model.memory_size=2.5 is not allowed"),
        (["model=anogan", "model.search.steps=2.5"], "model.search.steps=2.5 is not allowed"),
    ],
)
def test_a_bad_value_fails_before_training_naming_key_value_and_allowed(
    make_config, overrides, message
):
    cfg = make_config("data=synthetic", *overrides)
    with pytest.raises(ValueError, match=message):
        train(cfg)
    [row] = ResultsStore(cfg.paths.results_dir).read()
    assert row["status"] == "failed" and message in row["error"]
    assert "train_seconds" not in row


@pytest.mark.slow
def test_an_unknown_model_lists_the_valid_ones(tmp_path):
    done = run_cli("model=nope", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path)
    assert done.returncode != 0
    assert "Could not find 'model/nope'" in done.stderr
    assert "deep_svdd" in done.stderr and "mem_ganomaly" in done.stderr


def test_a_diverging_run_fails_with_the_step_and_the_loss_and_reports_no_metric(make_config):
    # A weight no check refuses (finite, >= 0) that overflows the loss at the first step.
    cfg = make_config("data=synthetic", "model=memae", "model.w_entropy=1e308")
    with pytest.raises(RuntimeError, match="diverged"):
        train(cfg)
    [row] = ResultsStore(cfg.paths.results_dir).read()
    assert row["status"] == "failed"
    # NaN from step 0; the guard looks every log_every_n_steps (10) and at the end of epoch 0.
    assert row["error"].startswith("DivergenceError: diverged by step 1 (train/loss: nan;")
    assert "auroc" not in row and "scores_path" not in row


@pytest.mark.slow
@pytest.mark.parametrize("launcher", ["basic", "joblib", "local_cpu"])
def test_a_multirun_with_a_failing_job_keeps_every_other_row_and_exits_non_zero(tmp_path, launcher):
    done = run_cli_isolated(
        "--multirun",
        f"hydra/launcher={launcher}",
        "data=synthetic",
        "model=memae",
        "model.w_entropy=0.0002,1e308,0.0001",  # the middle one overflows the loss
        "trainer.max_epochs=1",
        "trainer.enable_progress_bar=false",
        tmp_path=tmp_path,
    )
    assert done.returncode != 0  # Hydra runs every job, then reports the failure
    rows = ResultsStore(tmp_path / "results").read()
    assert sorted(row["status"] for row in rows) == ["failed", "ok", "ok"]
    [failed] = [row for row in rows if row["status"] == "failed"]
    assert "diverged by step 1 (train/loss: nan" in failed["error"]


def cli(tmp_path: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "anomaly_bench.train",
        "data=synthetic",
        "model=memae",
        "trainer.max_epochs=40",
        "trainer.enable_progress_bar=false",
        f"paths.results_dir={tmp_path / 'results'}",
        f"paths.log_dir={tmp_path / 'logs'}",
        *extra,
    ]


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_last_checkpoint_and_writes_one_ok_row(tmp_path):
    """SIGKILL at an exact batch (the first of the third epoch, from a test callback): the run
    dies there, with the second epoch's checkpoint written and no row, and a rerun resumes."""
    kill_at = (
        "+callbacks.stop={_target_: tests.signals.SignalAtBatch, epoch: 2, batch: 0, "
        f"signum: {int(signal.SIGKILL)}}}"
    )
    killed = subprocess.run(
        cli(tmp_path, kill_at), cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), "WANDB_MODE": "disabled"},
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert ResultsStore(tmp_path / "results").read() == []  # SIGKILL leaves no row
    [checkpoint] = tmp_path.glob("logs/checkpoints/*/last.ckpt")
    assert torch.load(checkpoint, weights_only=True)["epoch"] == 1  # epochs 0 and 1 done

    resumed = subprocess.run(
        cli(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    [row] = ResultsStore(tmp_path / "results").read()
    assert row["status"] == "ok" and row["resumed_from"].endswith("last.ckpt")
    assert row["epochs"] == 40

    skipped = subprocess.run(
        cli(tmp_path, "skip_done=true"), cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert skipped.returncode == 0 and "already has an ok row" in skipped.stdout + skipped.stderr
    assert len(ResultsStore(tmp_path / "results").read()) == 1


def final_weights(tmp_path: Path) -> dict:
    [checkpoint] = tmp_path.glob("logs/checkpoints/*/last.ckpt")
    return torch.load(checkpoint, weights_only=True)["state_dict"]


@pytest.mark.slow
@pytest.mark.parametrize("received", [signal.SIGTERM, signal.SIGINT])
def test_a_terminated_run_checkpoints_says_so_exits_non_zero_and_resumes_exactly(
    tmp_path, received
):
    """SIGTERM (a scheduler's preemption, scancel) or SIGINT mid-training: a checkpoint at once
    (mid-epoch: 3 batches per epoch here), a failed row that says what happened, exit status
    128 + the signal; the rerun ends with the weights of a run never interrupted."""
    args = ("data.batch_size=16", "trainer.max_epochs=12")
    interrupted, uninterrupted = tmp_path / "interrupted", tmp_path / "uninterrupted"
    for folder in (interrupted, uninterrupted):
        folder.mkdir()
    process = subprocess.Popen(
        cli(interrupted, *args), cwd=interrupted, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while not list(interrupted.glob("logs/checkpoints/*/last.ckpt")):
        assert process.poll() is None and time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.05)
    process.send_signal(received)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + received, stderr[-3000:]
    [row] = ResultsStore(interrupted / "results").read()
    assert row["status"] == "failed"
    assert row["error"].startswith(f"terminated by {received.name} at epoch ")
    assert row["error"].endswith("last.ckpt; rerun the same command to resume")

    resumed = subprocess.run(
        cli(interrupted, *args), cwd=interrupted, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert ResultsStore(interrupted / "results").read()[-1]["status"] == "ok"
    whole = subprocess.run(
        cli(uninterrupted, *args), cwd=uninterrupted, capture_output=True, text=True
    )
    assert whole.returncode == 0, whole.stderr[-3000:]
    mine, theirs = final_weights(interrupted), final_weights(uninterrupted)
    assert mine.keys() == theirs.keys()
    for name in mine:
        assert torch.equal(mine[name], theirs[name]), name


def moved_to(cfg: DictConfig, folder: Path) -> DictConfig:
    with open_dict(cfg):
        cfg.paths.output_dir = str(folder / "run")
        cfg.paths.log_dir = str(folder / "logs")
        cfg.paths.results_dir = str(folder / "results")
    return cfg


def stopped_then_rerun(make_config, tmp_path: Path, args: tuple, stop: str, received: int):
    """A run stopped by `received` (sent by the `stop` callback), its rerun, and the same run
    never interrupted (in its own folder): the failed row and the two finished ones."""
    with pytest.raises(SystemExit) as stopped:
        train(make_config(*args, stop, f"+callbacks.stop.signum={int(received)}"))
    assert stopped.value.code == 128 + received
    [failed] = ResultsStore(tmp_path / "results").read()
    assert failed["status"] == "failed"
    resumed = train(make_config(*args))
    whole = train(moved_to(make_config(*args), tmp_path / "uninterrupted"))
    return failed, resumed, whole


def assert_same_final_weights(tmp_path: Path) -> None:
    mine, theirs = final_weights(tmp_path), final_weights(tmp_path / "uninterrupted")
    assert mine.keys() == theirs.keys()
    for name in mine:
        assert torch.equal(mine[name], theirs[name]), name


@pytest.mark.slow
@pytest.mark.parametrize("batch", [0, 1, 2], ids=["first-batch", "mid-epoch", "last-batch"])
@pytest.mark.parametrize("received", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_at_any_batch_of_an_epoch_resumes_to_the_uninterrupted_weights(
    make_config, tmp_path, received, batch
):
    """The same at an exact batch (3 per epoch): in the last one Lightning stops only after the
    epoch's end, while its batch counter still holds the finished epoch's count."""
    args = ("data=synthetic", "model=memae", "data.batch_size=16", "trainer.max_epochs=3")
    signal_at = (
        f"+callbacks.stop={{_target_: tests.signals.SignalAtBatch, epoch: 1, batch: {batch}}}"
    )
    stopped_then_rerun(make_config, tmp_path, args, signal_at, received)
    assert [row["status"] for row in ResultsStore(tmp_path / "results").read()] == ["failed", "ok"]
    assert_same_final_weights(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("received", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_before_a_curve_point_stops_at_its_first_batch_and_resumes_exactly(
    make_config, tmp_path, received
):
    """A signal in an epoch's last batch reaches the learning curve's point (a scoring pass that
    takes minutes on a real test split), which stops before its first batch instead of scoring
    on: exit 128 + the signal, and the rerun ends with the weights and the curve of a run never
    interrupted."""
    args = ("data=synthetic", "model=memae", "data.batch_size=16", "trainer.max_epochs=3",
            "callbacks.learning_curve.every_n_epochs=1")  # fmt: skip
    signal_at = "+callbacks.stop={_target_: tests.signals.SignalAtBatch, epoch: 1, batch: 2}"
    failed, resumed, whole = stopped_then_rerun(make_config, tmp_path, args, signal_at, received)
    assert failed["error"].startswith(f"terminated by {received.name} at epoch 1, ")
    assert [p["epoch"] for p in resumed["learning_curve"]] == [1, 2, 3]
    for mine, theirs in zip(resumed["learning_curve"], whole["learning_curve"], strict=True):
        assert mine["auroc"] == theirs["auroc"]
    assert resumed["auroc"] == whole["auroc"]
    assert_same_final_weights(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("received", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_in_the_test_pass_exits_with_its_status_and_the_rerun_only_scores(
    make_config, tmp_path, received
):
    """Lightning ends a test pass it was signalled in with exit 0 (SIGTERM) or 1 (SIGINT); the
    run says where it stopped, exits 128 + the signal, and the rerun gives the uninterrupted
    run's row from the finished training's checkpoint."""
    args = ("data=synthetic", "model=memae", "data.batch_size=16", "trainer.max_epochs=2")
    signal_at = "+callbacks.stop={_target_: tests.signals.SignalAtTestBatch, batch: 0}"
    failed, resumed, whole = stopped_then_rerun(make_config, tmp_path, args, signal_at, received)
    assert f"terminated by {received.name} at epoch 2, " in failed["error"]
    assert "in the test pass (training had finished)" in failed["error"]
    assert resumed["resumed_from"] is not None and resumed["auroc"] == whole["auroc"]
