"""Where a run runs, and what it records about it: Hydra's instantiate with constructor errors
unwrapped, the device's name, the git commit, package versions and the CPU threads it may use.

The training entry point and the benchmarks both import this; nothing imports an entry point.
"""

from __future__ import annotations

import logging
import os
import platform
import subprocess
import warnings
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate as hydra_instantiate

from anomaly_bench import CONF_DIR

log = logging.getLogger(__name__)

PACKAGES = (
    "torch",
    "torchvision",
    "lightning",
    "torchmetrics",
    "hydra-core",
    "omegaconf",
    "wandb",
    "scikit-learn",
)
# Names the commit of a copy of the tree that has no .git (a container image, a tree synced to a
# cluster node), set by whoever copied it; a checkout's own git answer comes first.
COMMIT_VARIABLE = "ANOMALY_BENCH_GIT_COMMIT"
# Thread variables of the native libraries, for processes a run starts (DataLoader workers).
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def git_commit(root: Path = CONF_DIR.parent) -> str | None:
    """HEAD of the checkout the package runs from, `+dirty` when it has uncommitted changes; for a
    copy without .git, the commit COMMIT_VARIABLE names, so its rows still say what code ran."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.environ.get(COMMIT_VARIABLE) or None
    return commit + ("+dirty" if dirty else "")


def installed_version(name: str) -> str:
    """A package's version, or `not installed`: a machine without W&B (which a run with the CSV
    logger never imports) still trains and records what it had."""
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def package_versions() -> dict[str, str]:
    return {"python": platform.python_version(), **{n: installed_version(n) for n in PACKAGES}}


def device_name(device: torch.device) -> str:
    """The GPU's model name, or the device type: what a row or a benchmark ran on."""
    return torch.cuda.get_device_name(device) if device.type == "cuda" else device.type


def instantiate(node: Any, **kwargs: Any) -> Any:
    """Hydra's instantiate, but a constructor's own error reaches the user unwrapped.

    Constructors name the bad key, its value and what is allowed (and Python names an unknown
    keyword with its class, Lightning a bad accelerator); Hydra would bury that under an
    InstantiationException that only says which target it called.
    """
    try:
        return hydra_instantiate(node, **kwargs)
    except InstantiationException as err:
        if err.__cause__ is not None:
            raise err.__cause__ from None
        raise


def available_cores() -> int:
    """The cores this process may run on (its affinity, which Slurm and taskset narrow)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def thread_budget(
    requested: int | None, launcher: Mapping[str, Any] | None, cores: int
) -> int | None:
    """CPU threads for one job: `cpu_threads` when set; else the cores shared among the jobs a
    launcher runs at once on this machine (joblib: n_jobs of them; submitit: cpus_per_task
    each); None (torch's own default, every core) for one job at a time.

    Several jobs that each take every core run several times slower than with one thread each
    (measured here: four processes on two cores at two threads each, about five times slower).
    """
    if requested is not None:
        if not isinstance(requested, int) or isinstance(requested, bool) or requested < 1:
            raise ValueError(
                f"cpu_threads={requested!r} is not allowed; allowed: null (from the launcher) "
                "or a positive integer"
            )
        return requested
    target = str((launcher or {}).get("_target_", ""))
    if "joblib" in target.lower():
        return max(1, cores // min(launcher_jobs(launcher, cores), cores))
    if "submitit" in target.lower() and launcher.get("cpus_per_task"):
        return int(launcher["cpus_per_task"])
    return None


def launcher_jobs(launcher: Mapping[str, Any] | None, cores: int) -> int | None:
    """How many runs the launcher starts at once on this machine, at most (a sweep shorter
    than that starts fewer): joblib's n_jobs (-1: one per core); under submitit's local
    launcher every run of the sweep, a number no run is told (None); 1 under any other (one at
    a time, or each in its own Slurm allocation)."""
    target = str((launcher or {}).get("_target_", "")).lower()
    if "joblib" in target:
        jobs = launcher.get("n_jobs") or -1
        return cores if jobs < 0 else jobs
    if "submitit" in target and "local" in target:
        return None
    return 1


def apply_thread_budget(requested: int | None, launcher: Mapping[str, Any] | None) -> int:
    """Set torch's threads (and the native libraries' for child processes); the count in use."""
    threads = thread_budget(requested, launcher, available_cores())
    if threads is not None:
        torch.set_num_threads(threads)
        for variable in THREAD_VARIABLES:
            os.environ[variable] = str(threads)
        log.info("CPU threads: %d", threads)
    return torch.get_num_threads()


# Lightning's console lines that say nothing about this project's runs (a product tip, its own
# deprecation of a torch API, the logging interval on small data, an empty validation list, and
# its doubt about a mid-epoch resume: LastCheckpoint puts the sampler back where the epoch
# stopped, tested to end with an uninterrupted run's weights).
QUIET_WARNINGS = (
    r".*isinstance\(treespec, LeafSpec\).*",
    r"You're resuming from a checkpoint that ended before the epoch ended.*",
    r"The number of training batches .* is smaller than the logging interval.*",
    r"Total length of `list` across ranks is zero.*",
    # iForest is fitted, not optimised: Lightning warns whenever configure_optimizers has nothing.
    r"`LightningModule.configure_optimizers` returned `None`.*",
)
# Lightning's per-run notices that say nothing about the run: its hardware banner (the row
# records the device), the seed line (the row records the seed), the stop reason and its tips.
LIGHTNING_NOTICES = (
    "💡 Tip:",
    "GPU available:",
    "TPU available:",
    "HPU available:",
    "Seed set to",
    "`Trainer.fit` stopped:",
)
LIGHTNING_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.seed")


class _DropLightningNotices(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith(LIGHTNING_NOTICES)


def quiet_console() -> None:
    """Keep Lightning's noise off a run's console (and its log): what is left is the data line,
    the progress, the metrics and the result line, and warnings that concern the run."""
    for pattern in QUIET_WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    for name in LIGHTNING_LOGGERS:
        logging.getLogger(name).addFilter(_DropLightningNotices())
