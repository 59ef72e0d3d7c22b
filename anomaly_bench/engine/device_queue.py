"""The GPU queue: the paper's grids as a list of runs, done in order across sessions, each
session starting only the runs that can finish before its device time runs out.

A GPU is lent to some sessions only, for minutes (docs/gpu_session.md). So the queue
(`conf/queue/gpu.yaml`) is a list of steps, each a paper grid at some seeds; a run is done when
the store holds an `ok` row with its key, and the committed rows travel with the checkout, so a
session continues where the last one stopped. A run is started only when its estimated time
fits before the deadline (`run_estimates.py`), else not at all; `queue_simulation.py` plays a
session's plan on a simulated clock before any device time is spent. A run still going
at the hard stop is terminated and its row says so.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any

import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from anomaly_bench import CONF_DIR
from anomaly_bench.data.sources import dataset_spec
from anomaly_bench.engine.run_estimates import (
    RateKey,
    Rates,
    Sharing,
    estimate_seconds,
    rates_for,
    speed_setting,
)
from anomaly_bench.settings.checks import check_choice
from anomaly_bench.settings.experiments import QUEUE_FILE, experiment_grid
from anomaly_bench.store.results import key_today, latest_ok_rows
from anomaly_bench.store.run_identity import method_id, run_key

# Estimates are multiplied by this before they are held against the deadline.
SAFETY = 1.25


@dataclass(frozen=True)
class QueueStep:
    """One paper grid (`experiment`) at `seeds`, with `overrides` added to each of its runs;
    `only` narrows the grid's sweep (`(("model", ("ganomaly",)),)`: its GANomaly runs alone)."""

    name: str
    experiment: str
    seeds: tuple[int, ...]
    overrides: tuple[str, ...] = ()
    only: tuple[tuple[str, tuple[str, ...]], ...] = ()


@dataclass(frozen=True)
class QueuedRun:
    step: str
    overrides: tuple[str, ...]
    key: str
    method: str
    dataset: str
    estimate_s: float | None


@dataclass
class QueueReport:
    """What one session of the queue did: runs started (with their seconds and exit status),
    runs left for a later session (with why), runs terminated at the hard stop."""

    finished: list[dict[str, Any]] = field(default_factory=list)
    not_started: list[dict[str, Any]] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)


def load_queue(path: Path = QUEUE_FILE) -> list[QueueStep]:
    steps = OmegaConf.to_container(OmegaConf.load(path))["steps"]
    return [
        QueueStep(
            s["name"],
            s["experiment"],
            tuple(s["seeds"]),
            tuple(s.get("overrides", ())),
            tuple(
                (key, tuple(str(v) for v in values)) for key, values in s.get("only", {}).items()
            ),
        )
        for s in steps
    ]


def narrowed_sweep(step: QueueStep, grid: dict[str, list[str]]) -> dict[str, list[str]]:
    """The grid's swept values (all but dataset and seed) that the step's `only` keeps, in the
    grid's order; a key the grid does not sweep, or a value it does not hold, is refused."""
    swept = {key: values for key, values in grid.items() if key not in ("dataset", "seed")}
    for key, wanted in step.only:
        check_choice(f"queue step {step.name}: only", key, swept)
        for value in wanted:
            check_choice(f"queue step {step.name}: only.{key}", value, swept[key])
        swept[key] = [value for value in swept[key] if value in wanted]
    return swept


def step_overrides(step: QueueStep) -> Iterator[tuple[str, ...]]:
    """Each run of the step as the overrides that make it: its grid's sweep, at the step's
    seeds, in the grid's order (methods, then classes)."""
    swept = narrowed_sweep(step, experiment_grid(CONF_DIR, step.experiment))
    for seed in step.seeds:
        for values in product(*swept.values()):
            yield (
                f"experiment={step.experiment}",
                *(f"{key}={value}" for key, value in zip(swept, values, strict=True)),
                f"seed={seed}",
                *step.overrides,
            )


# The overrides a grid varies from run to run that are plain values, not config groups: a run's
# config is its group's composed config with these set, so a queue of hundreds of runs composes
# only once per method and grid (composing costs a fraction of a second).
PLAIN_KEYS = ("data.normal_class=", "data.anomalous_class=", "seed=")


def compose_run(overrides: Iterable[str], composed: dict[tuple[str, ...], Any]) -> Any:
    """The run's config: Hydra's composition of its group overrides (cached in `composed`),
    with its plain values set."""
    groups = tuple(o for o in overrides if not o.startswith(PLAIN_KEYS))
    if groups not in composed:
        with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
            composed[groups] = compose("train", overrides=list(groups))
    cfg = copy.deepcopy(composed[groups])
    for override in overrides:
        if override.startswith(PLAIN_KEYS):
            key, _, value = override.partition("=")
            OmegaConf.update(cfg, key, yaml.safe_load(value), merge=False)
    return cfg


def done_keys(rows: Iterable[dict]) -> set[str]:
    """The keys of every run with an `ok` row (not a smoke test), stored and recomputed under
    today's identity rules, as `ResultsStore.latest_ok` counts them."""
    return {key for row in latest_ok_rows(rows) for key in (row.get("run_key"), key_today(row))}


def pending_runs(
    steps: list[QueueStep],
    done: set[str],
    measured: dict[RateKey, Rates],
    benched: dict[str, Rates],
    sharing: Sharing,
    extra: tuple[str, ...] = (),
) -> list[QueuedRun]:
    """Every run of the queue without an `ok` row, in queue order, with its estimate (None
    where no rate is known for its method). A run two steps share is queued once, at the first
    (two processes of one key would write one checkpoint folder)."""
    runs, composed, queued = [], {}, set(done)
    for step in steps:
        for overrides in step_overrides(step):
            cfg = compose_run((*overrides, *extra), composed)
            key = run_key(cfg)
            if key in queued:
                continue
            queued.add(key)
            method = method_id(cfg)
            channels = dataset_spec(cfg.data.dataset).channels
            setting = speed_setting(cfg)
            rates = rates_for(measured, method, channels, setting, sharing) or benched.get(method)
            estimate = estimate_seconds(cfg, rates) if rates else None
            runs.append(
                QueuedRun(step.name, (*overrides, *extra), key, method, cfg.data.dataset, estimate)
            )
    return runs


def longest_first(runs: list[QueuedRun]) -> list[QueuedRun]:
    """Each step's runs with the longest estimate first, the steps in their order: the long
    runs start while a window still has room for them and the short ones fill the slots they
    leave, which shortens a grid (the one-fifth Table 3 grid's projection: 442 s against 493 s
    in the sweep's order) and starts the paper's long cells (Mem_GANomaly's) as soon as a window
    can hold them. Runs without an estimate go last; they are never started."""
    order = {step: i for i, step in enumerate(dict.fromkeys(run.step for run in runs))}
    return sorted(runs, key=lambda run: (order[run.step], -(run.estimate_s or 0.0)))


Launch = Callable[[QueuedRun], subprocess.Popen]


def train_command(run: QueuedRun) -> list[str]:
    return [sys.executable, "-m", "anomaly_bench.train", *run.overrides, "skip_done=true"]


def run_queue(
    runs: list[QueuedRun],
    launch: Launch,
    jobs: int,
    seconds: float,
    grace_s: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll_s: float = 1.0,
) -> QueueReport:
    """Start runs in queue order, at most `jobs` at a time, each only if its estimate (times
    SAFETY) fits in what is left of `seconds`; a run that does not fit is passed over for a
    shorter one behind it. At `seconds + grace_s` whatever still runs is terminated."""
    start = clock()
    deadline, hard_stop = start + seconds, start + seconds + grace_s
    waiting, running = list(runs), {}
    report = QueueReport()
    while waiting or running:
        now = clock()
        for run in list(waiting):
            if len(running) >= jobs:
                break
            if run.estimate_s is None:
                report.not_started.append({"key": run.key, "why": "no rate known"})
            elif now + SAFETY * run.estimate_s > deadline:
                continue
            else:
                running[run.key] = (launch(run), now, run)
            waiting.remove(run)
        if not running:
            break
        for key, (process, started, run) in list(running.items()):
            if process.poll() is not None:
                report.finished.append(
                    {
                        "key": key,
                        "step": run.step,
                        "seconds": round(clock() - started, 1),
                        "estimate_s": round(run.estimate_s, 1),
                        "returncode": process.returncode,
                    }
                )
                del running[key]
            elif clock() > hard_stop:
                process.terminate()
                process.wait()
                report.terminated.append(key)
                del running[key]
        sleep(poll_s)
    left = deadline - clock()
    for run in waiting:
        needs = SAFETY * run.estimate_s
        why = (
            f"needs ~{needs:.0f} s, more than the whole {seconds:.0f} s window"
            if needs > seconds
            else f"needs ~{needs:.0f} s, {max(left, 0):.0f} s were left"
        )
        report.not_started.append({"key": run.key, "why": why})
    return report
