"""Where a training step's time goes: operators, device kernels and host-device syncs per step,
and the operators with the most self time, from a profile of a method's training batches.

Images per second say that a method is slow, not why. Mem_GANomaly trains at 0.45x GANomaly's
images/s on an H200 but 0.75x on one CPU thread: on the GPU these small networks wait on kernel
launches and syncs more than on arithmetic, which only such counts show. The speed matrix
(`--profile`) records one profile per method beside its rates.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import lightning as L
from torch.autograd import DeviceType
from torch.autograd.profiler_util import FunctionEvent
from torch.profiler import ProfilerActivity, profile

from anomaly_bench.benchmarks.method_speed import (
    BenchCase,
    build_case,
    fit_and_score,
)
from anomaly_bench.benchmarks.timing import no_batch_after_warmup, synchronize
from anomaly_bench.engine.runtime import device_name
from anomaly_bench.settings.bench_settings import BenchSettings

# A tensor read back as a Python number (`.item()`, `bool(tensor)`): a wait for the device when
# the tensor lives there, none when it is on the host (the optimisers' step counts always are).
SCALAR_READ = "aten::_local_scalar_dense"
# The CUDA runtime's waits: each blocks the host until the device's queue drains, which is what
# a read of a device tensor costs; counting them, not the reads, counts real syncs.
SYNC_EVENTS = frozenset({"cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize"})
TOP_OPERATORS = 8


class StepProfiler(L.Callback):
    """Profiles the training batches after the first `warmup` ones, then ends the epoch."""

    def __init__(self, warmup: int) -> None:
        super().__init__()
        self.warmup, self.steps = warmup, 0
        self.profiler: profile | None = None
        self.started = self.wall_seconds = 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if batch_idx == self.warmup:
            synchronize(pl_module.device)
            activities = [ProfilerActivity.CPU]
            if pl_module.device.type == "cuda":
                activities.append(ProfilerActivity.CUDA)
            self.profiler = profile(activities=activities)
            self.profiler.__enter__()
            self.started = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx >= self.warmup:
            self.steps += 1

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        trainer.should_stop = True

    def on_train_end(self, trainer, pl_module) -> None:
        if self.profiler is None:
            raise no_batch_after_warmup(self.warmup, "profiled")
        synchronize(pl_module.device)
        self.wall_seconds = time.perf_counter() - self.started
        self.profiler.__exit__(None, None, None)


def _is_leaf_operator(event: FunctionEvent) -> bool:
    """An aten operator that calls no other: on a CPU, the ones that run a kernel."""
    return event.name.startswith("aten::") and not any(
        child.name.startswith("aten::") for child in event.cpu_children
    )


def _self_time_us(average: Any, on_device: bool) -> float:
    if on_device:  # renamed from the CUDA-only attribute in torch 2.4
        if hasattr(average, "self_device_time_total"):
            return average.self_device_time_total
        return average.self_cuda_time_total
    return average.self_cpu_time_total


def _host_ms_outside_events(events: list[FunctionEvent], wall_seconds: float) -> float:
    """The host's time in none of the profile's events: Python (the model's code, Lightning's
    hooks and logging) between operators. On a GPU whose small kernels finish sooner than the
    host queues them, that time is the step's."""
    recorded_us = sum(e.self_cpu_time_total for e in events if e.device_type == DeviceType.CPU)
    return wall_seconds * 1000 - recorded_us / 1000


def summarise(
    profiler: profile, steps: int, on_device: bool, wall_seconds: float
) -> dict[str, Any]:
    """Counts per step and the top operators by self time (the device's where it has one)."""
    events = profiler.events()
    kernels = None  # nor syncs: a CPU runs its operators as they are called
    if on_device:
        kernels = sum(1 for e in events if e.device_type == DeviceType.CUDA)
    averages = sorted(
        (a for a in profiler.key_averages() if _self_time_us(a, on_device) > 0),
        key=lambda a: _self_time_us(a, on_device),
        reverse=True,
    )
    return {
        "steps": steps,
        "operators_per_step": round(sum(map(_is_leaf_operator, events)) / steps, 1),
        "kernels_per_step": None if kernels is None else round(kernels / steps, 1),
        "scalar_reads_per_step": round(sum(e.name == SCALAR_READ for e in events) / steps, 1),
        "syncs_per_step": None
        if not on_device
        else round(sum(e.name in SYNC_EVENTS for e in events) / steps, 1),
        "wall_ms_per_step": round(wall_seconds * 1000 / steps, 1),
        "host_ms_outside_operators_per_step": round(
            _host_ms_outside_events(events, wall_seconds) / steps, 1
        ),
        "self_time_on": "device" if on_device else "cpu",
        "top_operators": [
            {
                "name": a.key,
                "calls_per_step": round(a.count / steps, 1),
                "self_ms_per_step": round(_self_time_us(a, on_device) / 1000 / steps, 3),
            }
            for a in averages[:TOP_OPERATORS]
        ],
    }


def profile_case(case: BenchCase, settings: BenchSettings) -> dict[str, Any]:
    """Train `train_warmup + train_steps` batches of the case, profiling the last `train_steps`."""
    logging.getLogger("lightning.pytorch").setLevel(logging.WARNING)
    cfg, data, model, _ = build_case(case, settings)
    profiler = StepProfiler(settings.train_warmup)
    device = fit_and_score(cfg, data, model, [profiler])
    return {
        "method": case.method,
        "device": device_name(device),
        **summarise(
            profiler.profiler, profiler.steps, device.type == "cuda", profiler.wall_seconds
        ),
    }
