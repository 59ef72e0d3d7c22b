"""End to end as a user runs it: the CLI, every model config, failures, W&B offline, multirun."""

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from anomaly_bench.engine.run import train
from anomaly_bench.reporting.tables import report
from anomaly_bench.store.results import ResultsStore
from tests.conftest import MODEL_IDS, quick_overrides, run_cli, run_cli_isolated


def rows(results_dir: Path) -> list[dict]:
    return ResultsStore(results_dir).read()


@pytest.mark.slow
def test_cli_fast_dev_run_writes_a_row_and_the_scores_file(tmp_path):
    done = run_cli(
        "data=synthetic",
        "trainer.fast_dev_run=true",
        f"paths.results_dir={tmp_path / 'results'}",
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    [row] = rows(tmp_path / "results")
    assert row["status"] == "ok" and row["method"] == "ganomaly" and row["dataset"] == "synthetic"
    assert 0.0 <= row["auroc"] <= 1.0
    assert (row["n_train"], row["n_test"], row["n_test_normal"]) == (48, 672, 24)
    assert row["threshold_source"] == "test_youden" and row["fast_dev_run"] is True
    scores = np.load(row["scores_path"])
    assert set(scores.files) == {"scores", "labels", "classes"} and len(scores["scores"]) > 0
    console = done.stdout + done.stderr
    assert "synthetic class 0" in console and "AUROC" in console  # the data and result lines
    for noise in ("Trainable params", "Tip:", "LeafSpec", "smaller than the logging interval"):
        assert noise not in console, noise
    assert "Trainable params" in (tmp_path / "run" / "model_summary.txt").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("model", MODEL_IDS)
def test_every_model_config_trains_and_writes_a_row(make_config, model):
    cfg = make_config(
        f"model={model}",
        "data=synthetic",
        "trainer.fast_dev_run=true",
        "trainer.enable_progress_bar=false",
        *quick_overrides(model),
    )
    row = train(cfg)
    assert row["method"] == model and row["status"] == "ok"
    assert rows(Path(cfg.paths.results_dir))[-1]["run_id"] == row["run_id"]


@pytest.mark.slow
def test_a_bad_config_value_names_the_error_and_loses_no_row(tmp_path):
    results = tmp_path / "results"
    earlier_row = {
        "run_id": "earlier", "status": "ok", "auroc": 0.9, "method": "iforest",
        "dataset": "digits", "protocol": "paper", "normal_class": 0, "seed": 0,
    }  # fmt: skip
    ResultsStore(results).append(earlier_row)
    done = run_cli(
        "data=synthetic",
        "data.normal_class=12",
        f"paths.results_dir={results}",
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert done.returncode == 1
    # One line on the console; the traceback in the run's log file.
    [line] = [x for x in done.stderr.splitlines() if "normal_class=12" in x]
    assert line.startswith("error: ValueError: normal_class=12 is not allowed; allowed: 0, 1, 2")
    assert f"traceback in {tmp_path / 'run' / 'train.log'}" in line
    assert "Traceback" not in done.stderr
    assert "Traceback" in (tmp_path / "run" / "train.log").read_text()
    full = run_cli(
        "data=synthetic",
        "data.normal_class=12",
        f"paths.results_dir={results}",
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
        env={"HYDRA_FULL_ERROR": "1"},
    )
    assert full.returncode == 1 and "Traceback" in full.stderr
    earlier, failed, _ = rows(results)
    assert earlier == earlier_row
    assert failed["status"] == "failed" and "normal_class=12" in failed["error"]
    assert "auroc" not in failed


@pytest.mark.slow
def test_wandb_logger_runs_offline_without_a_key(tmp_path):
    done = run_cli(
        "data=synthetic",
        "logger=wandb",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=1",
        "trainer.limit_test_batches=1",
        f"paths.results_dir={tmp_path / 'results'}",
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
        env={"WANDB_MODE": "offline", "WANDB_API_KEY": "", "WANDB_SILENT": "true"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    offline_runs = list((tmp_path / "run" / "wandb").glob("offline-run-*"))
    assert len(offline_runs) == 1
    assert list((tmp_path / "run" / "csv").glob("version_*/metrics.csv"))
    [row] = rows(tmp_path / "results")
    assert row["config"]["logger"]["wandb"]["group"] == "synthetic/ganomaly"


@pytest.mark.slow
def test_multirun_writes_one_row_per_job(tmp_path):
    done = run_cli(
        "--multirun",
        "data=synthetic",
        "data.normal_class=0,1",
        "trainer.fast_dev_run=true",
        f"paths.results_dir={tmp_path / 'results'}",
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    written = rows(tmp_path / "results")
    assert sorted(row["normal_class"] for row in written) == [0, 1]
    assert len({row["scores_path"] for row in written}) == 2


@pytest.mark.slow
def test_an_experiment_grid_runs_its_sweep_and_the_report_shows_it(tmp_path):
    done = run_cli_isolated(
        "--multirun",
        "experiment=table1_mnist",
        "data=synthetic",  # the grid's methods and classes, cut to two fast jobs
        "model=iforest,ganomaly",
        "data.normal_class=0",
        "trainer.fast_dev_run=true",
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = rows(tmp_path / "results")
    assert sorted(row["method"] for row in found) == ["ganomaly", "iforest"]
    assert all(row["config"]["tags"] == ["table1"] for row in found)
    printed = report(tmp_path / "results")
    # Smoke runs: their columns say so (a smoke setting is part of the configuration).
    assert "| class | ganomaly (fast_dev_run True) | iforest (fast_dev_run True) |" in printed


def test_test_set_epoch_selection_is_a_labelled_switch_recorded_in_the_row(make_config):
    honest = train(make_config("data=synthetic", "trainer.max_epochs=2"))
    chosen = train(
        make_config("data=synthetic", "trainer.max_epochs=2", "select_epoch_on_test=true")
    )
    assert honest["select_epoch_on_test"] is False and honest["selected_epoch"] is None
    assert chosen["select_epoch_on_test"] is True and chosen["selected_epoch"] in (0, 1)
    assert chosen["run_key"] != honest["run_key"]


@pytest.mark.slow
def test_the_shared_device_launcher_runs_jobs_at_once_and_every_row_lands(tmp_path):
    """conf/hydra/launcher/shared_gpu.yaml: N jobs at once on one device (here the CPU)."""
    done = run_cli_isolated(
        "--multirun",
        "hydra/launcher=shared_gpu",
        "hydra.launcher.n_jobs=2",
        "data=synthetic",
        "model=iforest,memae",
        "trainer.fast_dev_run=true",
        tmp_path=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = rows(tmp_path / "results")
    assert sorted(row["method"] for row in found) == ["iforest", "memae"]
    assert all(row["status"] == "ok" for row in found)
    cores = len(os.sched_getaffinity(0))
    assert {row["torch_threads"] for row in found} == {max(1, cores // min(2, cores))}
    # How the device was shared, which the GPU queue's estimates keep apart.
    assert {(row["device_jobs"], row["device_mps"]) for row in found} == {(2, False)}
    # Which CPU kernels rounded the run: a rerun elsewhere may train a different model.
    assert {row["cpu_capability"] for row in found} == {torch.backends.cpu.get_cpu_capability()}


def test_the_slurm_preset_requeues_timed_out_and_preempted_jobs():
    """No cluster here: the submission parameters the preset gives submitit."""
    from hydra import compose, initialize_config_dir

    from tests.conftest import CONF_DIR

    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose("train", overrides=["hydra/launcher=slurm_gpu"], return_hydra_config=True)
    launcher = cfg.hydra.launcher
    assert launcher._target_.endswith("SlurmLauncher")
    assert launcher.max_num_timeout >= 1 and launcher.signal_delay_s >= 60
    assert launcher.gpus_per_node == 1 and launcher.cpus_per_task >= 1
