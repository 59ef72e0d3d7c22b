"""The GPU queue played on a simulated clock, every run taking its estimate: a session's plan
(what would start, what no window can hold) and a grid's projected wall time, seen before any
device time is spent."""

from __future__ import annotations

import math

from anomaly_bench.engine.device_queue import SAFETY, QueuedRun, QueueReport, run_queue


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
