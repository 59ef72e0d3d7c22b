"""Work in fresh processes that the caller can stop: a benchmark case that hangs or crashes
(a CUDA context gone bad, CUDA graphs that fail to capture) costs its own measurement, not the
whole benchmark. Standard library only, so a process starts without importing torch until the
work it runs needs it.
"""

from __future__ import annotations

import multiprocessing
import pickle
import queue
import time
from collections.abc import Callable
from typing import Any

# How often the caller looks for a result, a dead process or its deadline.
RESULT_POLL_S = 1.0


def _deliver(
    work: Callable[[Any, Any], dict[str, Any]],
    case: Any,
    settings: Any,
    results: multiprocessing.Queue,
) -> None:
    """A measuring process: `work`'s result, or the error it raised, onto `results`."""
    try:
        results.put((True, work(case, settings)))
    except Exception as error:  # the caller raises it: a failed case is the caller's to report
        try:
            pickle.dumps(error)
        except Exception:  # an error that cannot cross processes crosses as its text
            error = RuntimeError(f"{type(error).__name__}: {error}")
        results.put((False, error))


def in_fresh_processes(
    work: Callable[[Any, Any], dict[str, Any]],
    case: Any,
    settings: Any,
    processes: int = 1,
    timeout_s: float | None = None,
) -> list[dict[str, Any]]:
    """`work` (the timing, or another look at the case such as a step profile) in `processes`
    fresh processes at once, one call each; their results.

    The first error raised in any process is raised here, and so is a process that ends
    without a result (a crashed CUDA context); past `timeout_s`, `multiprocessing.TimeoutError`.
    Either way the other processes are killed, so a hung case cannot hold the caller for ever.
    They are ordinary processes, not a pool's daemons: a case may start processes of its own
    (torch.compile's compile workers, DataLoader workers).
    """
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    children = [
        context.Process(target=_deliver, args=(work, case, settings, results))
        for _ in range(processes)
    ]
    for child in children:
        child.start()
    end = None if timeout_s is None else time.monotonic() + timeout_s
    found: list[dict[str, Any]] = []
    try:
        while len(found) < processes:
            try:
                ok, value = results.get(timeout=RESULT_POLL_S)
            except queue.Empty:
                dead = [c.exitcode for c in children if c.exitcode not in (None, 0)]
                if dead:
                    raise RuntimeError(
                        f"a measuring process ended with exit code {dead[0]} and no result"
                    ) from None
                if end is not None and time.monotonic() > end:
                    raise multiprocessing.TimeoutError(
                        f"no result within {timeout_s:g} s"
                    ) from None
                continue
            if not ok:
                raise value
            found.append(value)
    finally:
        for child in children:
            if child.is_alive():
                child.kill()
            child.join()
    return found
