"""The demo's grid, run in this process (`anomaly-bench demo`): one config per (method, digits
class), composed as the command line would, through the same `train()` as any run, one line per
run on the console and Lightning's per-run banners kept off it."""

from __future__ import annotations

import contextlib
import io
import logging
import time
import warnings
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from anomaly_bench import CONF_DIR
from anomaly_bench.engine.run import train
from anomaly_bench.engine.runtime import quiet_console

QUIET_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric", "anomaly_bench")


def demo_config(model: str, normal_class: int, epochs: int, results: Path) -> DictConfig:
    """One run's config, composed as the CLI would, with its outputs under `results`."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(
            "train",
            overrides=[
                f"model={model}",
                "data=digits",
                f"data.normal_class={normal_class}",
                f"trainer.max_epochs={epochs}",
                "trainer.enable_progress_bar=false",
                f"paths.results_dir={results}",
                f"paths.log_dir={results / 'logs'}",
            ],
            return_hydra_config=True,
        )
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(results / "runs" / f"{model}_class{normal_class}")
        del cfg.hydra
    return cfg


def quiet() -> None:
    """Per-run banners (device lines, tips, summaries) and known noise off the console: the
    demo's own line per run says what matters."""
    quiet_console()
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*contains no parameters.*")


def run_grid(models: list[str], classes: list[int], results: Path, epochs: dict[str, int]) -> None:
    total, number = len(models) * len(classes), 0
    for model in models:
        for normal_class in classes:
            number += 1
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # Lightning's per-run test table
                row = train(demo_config(model, normal_class, epochs[model], results))
            seconds = time.perf_counter() - started
            print(
                f"run {number}/{total}: {model}, digits class {normal_class}: "
                f"AUROC {row['auroc']:.3f} ({seconds:.0f} s)",
                flush=True,
            )
