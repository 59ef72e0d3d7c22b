"""The GPU queue: the paper's grids as a list of runs, done in order across sessions, each
session starting only the runs that can finish before its device time runs out.

A GPU is lent to some sessions only, for minutes (docs/gpu_session.md). So the queue
(`conf/queue/gpu.yaml`) is a list of steps, each a paper grid at some seeds; a run is done when
the store holds an `ok` row with its key, and the committed rows travel with the checkout, so a
session continues where the last one stopped. A run is started only when its estimated time
fits before the deadline: estimated from the rows this device already wrote for the method
(their training and scoring rates; a wider image's where it has none at these channels), else
from the device's benchmark divided by the jobs sharing it, else not at all. A run still going
at the hard stop is terminated and its row says so.
"""

from __future__ import annotations

import copy
import math
import statistics
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from anomaly_bench import CONF_DIR
from anomaly_bench.data.sources import dataset_spec
from anomaly_bench.engine.callbacks.learning_curve import reads_point
from anomaly_bench.settings.checks import check_choice
from anomaly_bench.settings.experiments import experiment_grid, protocol_sizes
from anomaly_bench.settings.method_facts import first_stage_key
from anomaly_bench.store.results import key_today, latest_ok_rows
from anomaly_bench.store.row_schema import curve_scoring_seconds
from anomaly_bench.store.run_identity import method_id, numerics, run_key

QUEUE_FILE = CONF_DIR / "queue" / "gpu.yaml"
# Seconds a run spends besides its epochs and its scoring pass (start-up, data, checkpoints).
RUN_OVERHEAD_S = 30.0
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


@dataclass(frozen=True)
class Rates:
    """Images per second of one method on one device: training and scoring."""

    train: float
    score: float


def training_rate(row: dict) -> float | None:
    """Images a second of training alone. A row's own rate divides by the whole fit, which
    holds its learning curve's scoring too: rows with a curve and rows without one (the H200's
    first grid) would give one method two rates, and a run's curve is estimated on its own
    (`estimate_seconds`)."""
    seconds = row["train_seconds"]
    training = seconds - sum(curve_scoring_seconds(row))
    return row["train_images_per_second"] * seconds / training if training > 0 else None


@dataclass(frozen=True)
class Sharing:
    """How a device is shared: runs at once, and whether their kernels run together (MPS)."""

    jobs: int
    mps: bool = False

    def __str__(self) -> str:
        return f"{self.jobs} jobs {'under MPS' if self.mps else 'by time-slicing'}"


# The committed GPU rows written before rows recorded their sharing: the H200's one-fifth Table 3
# grid, 14 jobs by time-slicing (docs/gpu_session.md).
EARLIER_GPU_SHARING = Sharing(14)


def row_sharing(row: dict) -> Sharing | None:
    """As the row recorded it (None: its launcher could not tell), else as rows were shared
    before they recorded it."""
    if "device_jobs" in row:
        jobs = row["device_jobs"]
        return None if jobs is None else Sharing(jobs, bool(row.get("device_mps")))
    return Sharing(1) if row.get("device") == "cpu" else EARLIER_GPU_SHARING


class SpeedSetting(NamedTuple):
    """What a run's training rate depends on besides its device and how it is shared."""

    numerics: tuple[tuple[str, Any], ...] = ()  # `run_identity.numerics`: bf16, TF32 on or off
    channels_last: bool = False
    compiled: str | None = None  # the compile mode, when compiled
    fused_adam: bool = False


def speed_setting(config: Any) -> SpeedSetting:
    speedups = (config.get("callbacks") or {}).get("speedups") or {}
    optimizer = (config.get("model") or {}).get("optimizer") or {}
    compiled = (speedups.get("compile_mode") or "default") if speedups.get("compile") else None
    return SpeedSetting(
        tuple(sorted(numerics(config).items())),
        bool(speedups.get("channels_last")),
        compiled,
        bool(optimizer.get("fused")),
    )


RateKey = tuple[str, int, SpeedSetting, Sharing]  # method, channels, speed setting, sharing


def measured_rates(rows: Iterable[dict], device: str) -> dict[RateKey, Rates]:
    """{(method, channels, setting, sharing): median rates} over the `ok` rows this device
    wrote, but for resumed ones (their seconds are the last process's, their curve every
    process's). Kept apart by setting and sharing: once a faster default has rows, the 70 rows
    of the first grid must not outvote them in a median."""
    found: dict[RateKey, list[tuple[float, float]]] = {}
    for row in rows:
        if row.get("status") != "ok" or row.get("device") != device or row.get("resumed_from"):
            continue
        if not row.get("train_images_per_second") or not row.get("test_images_per_second"):
            continue
        train, sharing = training_rate(row), row_sharing(row)
        if train and sharing:
            channels = dataset_spec(row["dataset"]).channels
            key = (row["method"], channels, speed_setting(row["config"]), sharing)
            found.setdefault(key, []).append((train, row["test_images_per_second"]))
    return {
        key: Rates(
            statistics.median(train for train, _ in pairs),
            statistics.median(score for _, score in pairs),
        )
        for key, pairs in found.items()
    }


def shared_by(rates: Rates, measured: Sharing, planned: Sharing) -> Rates:
    """Rates measured under one sharing, for runs under another: with more jobs at once each
    gets at most the share the same total gives; with fewer, no faster (sharing the chip can
    raise the total: 14 GANomaly jobs on the H200 gave 4.5 times one process's)."""
    share = min(1.0, measured.jobs / planned.jobs)
    return Rates(rates.train * share, rates.score * share)


def rates_for(
    measured: dict[RateKey, Rates],
    method: str,
    channels: int,
    setting: SpeedSetting,
    sharing: Sharing,
) -> Rates | None:
    """The device's rates for the method at these channels, else at the fewest channels above
    them: those of rows with the run's setting and sharing, else the slowest of the others
    (`shared_by`). The GPU's rows so far are CIFAR-10's (3 channels), and without a wider
    image's rates a 1-channel MNIST run fell back to the one-process benchmark divided by the
    jobs, four times too slow, so that Table 1's Mem_GANomaly and DAGMM runs looked longer than
    any window and would never start, and never write the rows that would correct it. A wider
    image of the same network (and CIFAR-10's larger memory and LeNet) is never faster, nor
    are another setting's rows taken for a faster one's: the estimate errs long, not short, and
    the first runs under a new default write the rows that estimate the rest."""
    widths = [c for m, c, _, _ in measured if m == method and c >= channels]
    if not widths:
        return None
    groups = {
        (s, shared): rates
        for (m, c, s, shared), rates in measured.items()
        if m == method and c == min(widths)
    }
    if (setting, sharing) in groups:
        return groups[(setting, sharing)]
    others = (shared_by(rates, shared, sharing) for (_, shared), rates in groups.items())
    return min(others, key=lambda rates: rates.train)


def estimate_device(rows: Iterable[dict], device: str) -> str:
    """The device whose rows estimate this one's runs: its own once it has written any, else
    the GPU that wrote the most (a machine of another kind is lent too, and a queue estimated
    from a benchmark divided by the jobs would start almost nothing: one process's rate over 14
    is four times slower than each of 14 processes ran on the H200). The 1.25 margin and the
    stop 30 s past the deadline absorb the difference between two chips; the first window's
    rows replace the borrowed ones."""
    counts = Counter(
        row.get("device") for row in rows if row.get("status") == "ok" and row.get("device")
    )
    if counts[device] or device == "cpu":
        return device
    gpus = [(n, name) for name, n in counts.items() if name != "cpu"]
    return max(gpus)[1] if gpus else device


def bench_rates(bench: dict[str, Any], jobs: int, device: str) -> dict[str, Rates]:
    """{method: rates} of one process in the device's benchmark (`make bench` JSON), divided
    by the jobs that will share the device: no gain from sharing is assumed. None from a
    benchmark of another device (the committed one is the H200's: a CPU plan took its GPU rates
    and put a 300-epoch Deep SVDD run at 106 s)."""
    if bench.get("device") != device:
        return {}
    return {
        row["label"]: Rates(
            row["train_images_per_second"] / jobs, row["score_images_per_second"] / jobs
        )
        for row in bench.get("methods", [])
        if row.get("stage", 1) == 1
    }


def curve_points(cfg: Any) -> int:
    """How many learning-curve points the run reads, by the callback's own rule."""
    every = (cfg.get("callbacks") or {}).get("learning_curve", {}).get("every_n_epochs") or 0
    key = first_stage_key(method_id(cfg))
    first = (cfg.model.get(key) or 0) if key else 0
    epochs = cfg.trainer.max_epochs
    return sum(reads_point(e, epochs, first, every) for e in range(1, epochs + 1))


def estimate_seconds(cfg: Any, rates: Rates) -> float:
    """A run's seconds: its epochs over its training images, its learning curve (each point
    scores the subsample, the best epoch the whole split once more), one scoring pass, the
    overhead."""
    n_train, n_test = protocol_sizes(cfg.data.dataset, cfg.data.protocol)
    if cfg.data.get("train_batches"):
        n_train = n_train * cfg.data.train_batches // dataset_spec(cfg.data.dataset).train_files
    epochs = cfg.trainer.max_epochs
    points = curve_points(cfg)
    curve = 0.0
    if points:
        subsample = cfg.callbacks.learning_curve.get("subsample") or n_test
        curve = (points * min(subsample, n_test) + n_test) / rates.score
    return epochs * n_train / rates.train + curve + n_test / rates.score + RUN_OVERHEAD_S


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


def beyond_window(runs: list[QueuedRun], seconds: float) -> dict[tuple[str, str], list[float]]:
    """{(step, method): estimates} of the runs that no window of `seconds` can start, however
    empty: at today's rates and job count they wait for faster settings or fewer jobs sharing
    the device, not for a later session, so a plan must say so rather than leave them pending
    session after session."""
    found: dict[tuple[str, str], list[float]] = {}
    for run in runs:
        if run.estimate_s is not None and SAFETY * run.estimate_s > seconds:
            found.setdefault((run.step, run.method), []).append(run.estimate_s)
    return found


class SimulatedClock:
    """Seconds that pass only while the queue sleeps between its polls, as a device's would
    while its runs train."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def now(self) -> float:
        return self.seconds

    def sleep(self, seconds: float) -> None:
        self.seconds += seconds


class SimulatedRun:
    """A run that takes its estimate on a simulated clock: what `simulate_queue` launches."""

    def __init__(self, clock: SimulatedClock, seconds: float) -> None:
        self.clock, self.ends, self.returncode = clock, clock.now() + seconds, None

    def poll(self) -> int | None:
        if self.clock.now() >= self.ends:
            self.returncode = 0
        return self.returncode

    def terminate(self) -> None:
        self.returncode = -15

    def wait(self) -> int | None:
        return self.returncode


def _simulated(runs: list[QueuedRun], jobs: int, seconds: float) -> tuple[QueueReport, float]:
    """`run_queue` polling a simulated clock each second, every run taking its estimate: the
    report and the second at which the last run ended."""
    clock = SimulatedClock()
    report = run_queue(
        runs,
        lambda run: SimulatedRun(clock, run.estimate_s),
        jobs,
        seconds,
        clock=clock.now,
        sleep=clock.sleep,
    )
    return report, clock.now()


def simulate_queue(runs: list[QueuedRun], jobs: int, seconds: float) -> QueueReport:
    """What `run_queue` would start if every run took its estimate: a session's plan, seen
    before any device time is spent."""
    return _simulated(runs, jobs, seconds)[0]


def projected_seconds(runs: list[QueuedRun], jobs: int) -> float | None:
    """How long the runs would keep the device busy, `jobs` at a time, in one stretch without a
    deadline: the figure a goal such as "Table 3 in five minutes" is held against before a GPU
    measures it. None when a run has no estimate."""
    if any(run.estimate_s is None for run in runs):
        return None
    return _simulated(runs, jobs, math.inf)[1]
