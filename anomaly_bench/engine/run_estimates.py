"""How long a queued run will take on a device, before it starts: the rows this device already
wrote for the method (their training and scoring rates; a wider image's where it has none at
these channels), else the device's benchmark divided by the jobs sharing it, else unknown. The
GPU queue (`device_queue.py`) starts a run only when this estimate fits before its deadline.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from anomaly_bench.data.sources import dataset_spec
from anomaly_bench.engine.callbacks.learning_curve import reads_point
from anomaly_bench.settings.experiments import protocol_sizes
from anomaly_bench.settings.method_facts import first_stage_key
from anomaly_bench.store.row_schema import curve_scoring_seconds
from anomaly_bench.store.run_identity import method_id, numerics

# Seconds a run spends besides its epochs and its scoring pass (start-up, data, checkpoints).
RUN_OVERHEAD_S = 30.0


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
