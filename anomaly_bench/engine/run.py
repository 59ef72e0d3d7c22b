"""One run = fit + test + one row in the results store (`train`); `python -m anomaly_bench.train`
runs it per Hydra job, the demo per class and method.

A run that raises still writes a `failed` row naming the error, then re-raises, so a grid's
store always says what happened to every job.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.utils import get_class
from omegaconf import DictConfig, OmegaConf

from anomaly_bench import CONF_DIR
from anomaly_bench.engine.callbacks import (
    AnomalyMetrics,
    LastCheckpoint,
    LearningCurve,
    SelectEpochOnTest,
    TrainingImageCounter,
)
from anomaly_bench.engine.callbacks.last_checkpoint import TerminatedError
from anomaly_bench.engine.gpu_sharing import device_sharing
from anomaly_bench.engine.loggers import finish_wandb
from anomaly_bench.engine.runtime import (
    apply_thread_budget,
    device_name,
    git_commit,
    instantiate,
    package_versions,
)
from anomaly_bench.engine.trained_model import build_model
from anomaly_bench.settings.checks import (
    POSITIVE_INT,
    Allowed,
    check_model_settings,
    check_run_settings,
    declared_settings,
)
from anomaly_bench.settings.protocols import class_key, class_words
from anomaly_bench.store.results import ResultsStore
from anomaly_bench.store.run_identity import (
    configuration,
    digest,
    method_id,
    run_key,
    smoke_settings,
)

log = logging.getLogger(__name__)

GLOBAL_PACKAGE = "# @package _global_"


def run_keys() -> frozenset[str]:
    """The top-level keys a run's config may have: the groups train.yaml composes, its own
    settings, and what any `_global_` config adds at the top (Mem_GANomaly's table of the
    paper's settings)."""
    keys = {"data", "trainer", "model", "callbacks", "logger", "paths", "hydra"}
    for path in CONF_DIR.rglob("*.yaml"):
        if path.name == "train.yaml" or path.read_text().startswith(GLOBAL_PACKAGE):
            keys |= set(OmegaConf.load(path)) - {"defaults"}
    return frozenset(keys)


RUN_KEYS = run_keys()


def resolved_config(cfg: DictConfig) -> dict[str, Any]:
    """The config as the run used it; falls back to unresolved text where a value cannot resolve."""
    try:
        return OmegaConf.to_container(cfg, resolve=True)
    except Exception:  # a broken interpolation (any resolver's error) must not cost the row
        return OmegaConf.to_container(cfg, resolve=False)


def base_row(cfg: DictConfig) -> dict[str, Any]:
    """The run's settings and environment, known before anything can fail. `method` is the
    configured target until `identity` names the method: a target it cannot name still leaves
    a `failed` row that says which."""
    return {
        "run_id": uuid.uuid4().hex,
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "method": str(cfg.model.get("_target_")),
        "dataset": cfg.data.dataset,
        # `normal_class`, or `anomalous_class` under leave_one_out: the class the run is about.
        class_key(cfg.data.protocol): cfg.data.get(class_key(cfg.data.protocol)),
        "protocol": cfg.data.protocol,
        "seed": cfg.seed,
        "max_epochs": cfg.trainer.get("max_epochs"),
        "fast_dev_run": bool(cfg.trainer.get("fast_dev_run", False)),
        # A run cut short by fast_dev_run or a batch limit: never counts as done, never in a table.
        "smoke": bool(smoke_settings(cfg.trainer)),
        "git_commit": git_commit(),
        "versions": package_versions(),
        "config": resolved_config(cfg),
    }


def identity(cfg: DictConfig) -> dict[str, str]:
    """The run's key, its configuration's digest (what a table averages rows by) and its
    method's id (refuses a model target they cannot be read from)."""
    return {
        "run_key": run_key(cfg),
        "configuration_digest": digest(configuration(cfg)),
        "method": method_id(cfg),
    }


# Lightning's batch limits: a share of the batches or a number of them; 0 would train or score
# no image (a run that writes a row without having trained).
BATCH_LIMIT = Allowed(
    "null, a share in (0, 1] or a positive number of batches (0 would train or score no image)",
    lambda v: (
        v is None
        or (isinstance(v, float) and 0 < v <= 1)
        or (isinstance(v, int) and not isinstance(v, bool) and v >= 1)
    ),
)


def check_budget(cfg: DictConfig) -> None:
    """A benchmark run trains for a stated, finite number of epochs (Lightning's -1 is endless)."""
    POSITIVE_INT.check("trainer.max_epochs", cfg.trainer.get("max_epochs"))
    for key in ("limit_train_batches", "limit_val_batches", "limit_test_batches"):
        BATCH_LIMIT.check(f"trainer.{key}", cfg.trainer.get(key))


def checkpoint_to_resume(cfg: DictConfig) -> Path | None:
    """The last.ckpt an interrupted run with this identity left, when resuming is on."""
    last = Path(cfg.paths.checkpoint_dir) / "last.ckpt"
    if cfg.get("resume", True) and not cfg.trainer.get("fast_dev_run") and last.exists():
        try:  # read once here, so a torn or foreign file is named with the ways out
            torch.load(last, map_location="cpu", weights_only=True)
        except Exception as err:
            raise ValueError(
                f"checkpoint {last} cannot be read ({type(err).__name__}: {err}); rerun with "
                "resume=false to train from scratch, or delete the file"
            ) from None
        log.info("resuming from %s", last)
        return last
    return None


def launcher_config() -> dict[str, Any] | None:
    """The Hydra launcher running this job (None outside a Hydra app)."""
    if not HydraConfig.initialized():
        return None
    return OmegaConf.to_container(HydraConfig.get().launcher, resolve=True)


@contextmanager
def signals_as_termination(callbacks: list[L.Callback]) -> Iterator[None]:
    """A SIGTERM or SIGINT that stopped training or the test pass (Lightning ends each its own
    way: SIGTERMException, or `exit(1)` after a KeyboardInterrupt) becomes one TerminatedError
    that says where the run stopped and exits 128 + the signal."""
    try:
        yield
    except BaseException as err:
        stopped = next((c.interruption for c in callbacks if isinstance(c, LastCheckpoint)), None)
        if stopped is not None:
            raise TerminatedError(stopped) from err
        raise


def fit_and_test(cfg: DictConfig) -> dict[str, Any]:
    """Build everything from the config, train, score the test split; the row's measured fields."""
    check_budget(cfg)
    check_model_settings(cfg.model, declared_settings(get_class(cfg.model._target_)))
    threads = apply_thread_budget(cfg.get("cpu_threads"), launcher_config())
    L.seed_everything(cfg.seed, workers=True)
    datamodule = instantiate(cfg.data)
    model = build_model(cfg.model, datamodule)
    callbacks = [instantiate(callback) for callback in cfg.callbacks.values()]
    counter = TrainingImageCounter()
    selection = SelectEpochOnTest() if cfg.get("select_epoch_on_test", False) else None
    metrics = next((c for c in callbacks if isinstance(c, AnomalyMetrics)), None)
    if metrics is None:
        raise ValueError(
            "callbacks must include anomaly_metrics (AnomalyMetrics): it produces the results"
        )
    curve = next((c for c in callbacks if isinstance(c, LearningCurve) and c.enabled), None)
    loggers = [instantiate(logger) for logger in cfg.logger.values()]
    no_validation = {"limit_val_batches": 0} if datamodule.val_fraction == 0 else {}
    trainer: L.Trainer = instantiate(
        cfg.trainer,
        callbacks=[*callbacks, counter, *([selection] if selection else [])],
        logger=loggers,
        **no_validation,
    )

    resume_from = checkpoint_to_resume(cfg)
    started = time.perf_counter()
    with signals_as_termination(callbacks):
        trainer.fit(model, datamodule=datamodule, ckpt_path=resume_from, weights_only=True)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    with signals_as_termination(callbacks):
        # verbose=False: the run's result line and its row say the metrics, not Lightning's.
        trainer.test(model, datamodule=datamodule, verbose=False)
    test_seconds = time.perf_counter() - started
    return {
        **datamodule.class_name_field(),
        "epochs": trainer.current_epoch,
        "resumed_from": str(resume_from) if resume_from else None,
        **metrics.results,
        "select_epoch_on_test": selection is not None,
        "selected_epoch": selection.selected_epoch if selection else None,
        **(curve.row_fields(metrics.results["auroc"]) if curve else {}),
        "train_seconds": round(train_seconds, 3),
        "test_seconds": round(test_seconds, 3),
        "train_images_per_second": round(counter.images / train_seconds, 2)
        if train_seconds
        else None,
        "test_images_per_second": round(metrics.results["n_scored"] / test_seconds, 2)
        if test_seconds
        else None,
        "n_train": datamodule.n_train,
        "n_val": datamodule.n_val,
        "n_test": datamodule.n_test,
        "n_test_normal": datamodule.n_test_normal,
        "device": device_name(trainer.strategy.root_device),
        **device_sharing(launcher_config()),
        "torch_threads": threads,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "scores_path": str(metrics.scores_path),
        "pictures_path": str(metrics.pictures_path) if metrics.pictures_path else None,
        "output_dir": str(cfg.paths.output_dir),
    }


def train(cfg: DictConfig) -> dict[str, Any]:
    """Run once and append its row (`ok`, or `failed` with the error before re-raising)."""
    store = ResultsStore(cfg.paths.results_dir)
    store.check_writable()
    row = base_row(cfg)
    try:
        row |= identity(cfg)
        check_run_settings(cfg, RUN_KEYS)
        done = store.latest_ok(row["run_key"]) if cfg.skip_done else None
        if done is not None:
            log.info("skipped: %s already has an ok row (skip_done=true)", row["run_key"])
            return done
        row |= fit_and_test(cfg)
    except TerminatedError as err:
        row |= {"status": "failed", "error": str(err)}
        store.append_or_keep(row, cfg.paths.output_dir)
        log.error("%s", err)
        raise SystemExit(err.exit_status) from None
    except BaseException as err:
        row |= {"status": "failed", "error": f"{type(err).__name__}: {err}"}
        store.append_or_keep(row, cfg.paths.output_dir)
        raise
    finally:
        finish_wandb()
    row["status"] = "ok"
    store.append_or_keep(row, cfg.paths.output_dir)
    if row["pictures_path"]:
        try:
            store.keep_picture(row["run_key"], row["pictures_path"])
        except OSError as err:  # the row is written; the pictures stay in the run's folder
            log.warning(
                "example pictures not copied into the store (%s): %s", err, row["pictures_path"]
            )
    log.info(
        "%s %s %s: AUROC %.4f, AUPRC %.4f (training %.0f s, scoring %.0f s); row in %s",
        row["method"],
        row["dataset"],
        class_words(row),
        row["auroc"],
        row["auprc"],
        row["train_seconds"],
        row["test_seconds"],
        store.path,
    )
    return row
