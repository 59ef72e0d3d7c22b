"""Shared fixtures: config composition as the CLI does it, and the real-data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from anomaly_bench import CONF_DIR

ROOT = CONF_DIR.parents[1]
MODEL_IDS = sorted(path.stem for path in (CONF_DIR / "model").glob("*.yaml"))


def quick_overrides(model: str) -> list[str]:
    """Shrink a test-time search (500 steps per image by default) to smoke-test size, for the
    models whose composed config has one."""
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose("train", overrides=[f"model={model}"])
    return ["model.search.steps=2"] if "search" in cfg.model else []


def real_data_dir() -> Path:
    return Path(os.environ.get("ANOMALY_BENCH_DATA", ROOT / "data"))


@pytest.fixture
def mnist_dir() -> Path:
    """The folder holding MNIST's IDX files; the test is skipped with the reason when absent."""
    folder = real_data_dir()
    if not (folder / "MNIST" / "raw" / "train-images-idx3-ubyte.gz").exists():
        pytest.skip(
            f"MNIST not in {folder}: run `make data` (copies ../shared/datasets) "
            "or set ANOMALY_BENCH_DATA"
        )
    return folder


def run_config(folder: Path, *overrides: str) -> DictConfig:
    """Compose `conf/train.yaml` with overrides, outputs under `folder`, hydra's runtime set."""
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose("train", overrides=list(overrides), return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(folder / "run")
        cfg.paths.log_dir = str(folder / "logs")
        cfg.paths.results_dir = str(folder / "results")
        del cfg.hydra
    return cfg


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., DictConfig]:
    """run_config under the test's tmp_path."""
    return partial(run_config, tmp_path)


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """`python -m anomaly_bench.train ARGS` as a user runs it, in cwd."""
    return subprocess.run(
        [sys.executable, "-m", "anomaly_bench.train", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "WANDB_MODE": "disabled", **(env or {})},
        timeout=600,
    )


def run_cli_isolated(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """run_cli in tmp_path with the results store and logs (checkpoints) kept under it."""
    return run_cli(
        *args,
        f"paths.results_dir={tmp_path / 'results'}",
        f"paths.log_dir={tmp_path / 'logs'}",
        cwd=tmp_path,
    )


@pytest.fixture
def cifar_dir() -> Path:
    """The folder holding CIFAR-10's pickles; the test is skipped with the reason when absent."""
    folder = real_data_dir()
    if not (folder / "cifar-10-batches-py" / "test_batch").exists():
        pytest.skip(
            f"CIFAR-10 not in {folder}: run `make data` (copies ../shared/datasets) "
            "or set ANOMALY_BENCH_DATA"
        )
    return folder
