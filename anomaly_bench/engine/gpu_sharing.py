"""CUDA's Multi-Process Service (MPS): the kernels of the processes sharing a GPU run at once.

Without it the GPU gives each process's context the whole chip in turn, and the kernels of
these small networks (microseconds each, on a fraction of the multiprocessors) leave most of it
idle while 14 runs take turns; under MPS the processes' kernels share the multiprocessors. MPS is
a daemon of the machine (`nvidia-cuda-mps-control -d`), which changes no setting of the GPU:
it runs for one matrix cell or one stretch of the queue, in folders of its own, and is asked to
quit after, so the machine goes back as it came. Processes started inside `mps_daemon` find it
through the two variables it sets; a process started outside it does not use it. Each run's
row records how its device was shared (`device_sharing`), which its training rate depends on.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from anomaly_bench.engine.runtime import available_cores, launcher_jobs

CONTROL = "nvidia-cuda-mps-control"
PIPE_VARIABLE = "CUDA_MPS_PIPE_DIRECTORY"
LOG_VARIABLE = "CUDA_MPS_LOG_DIRECTORY"
# How many runs the GPU queue runs at once: each of its runs is a Hydra app of its own, so it
# cannot tell from its launcher.
JOBS_VARIABLE = "ANOMALY_BENCH_DEVICE_JOBS"

log = logging.getLogger(__name__)


class MpsUnavailableError(RuntimeError):
    """The daemon could not be started here; the message says why."""


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:300]


@contextmanager
def mps_daemon(folder: Path | None = None) -> Iterator[None]:
    """The MPS daemon for the body's length; its pipe and log folders under `folder` (a new
    temporary folder when None)."""
    control = shutil.which(CONTROL)
    if control is None:
        raise MpsUnavailableError(f"{CONTROL} is not on PATH: no MPS on this machine")
    with tempfile.TemporaryDirectory(prefix="mps-") as temporary:
        root = folder or Path(temporary)
        variables = {PIPE_VARIABLE: str(root / "pipe"), LOG_VARIABLE: str(root / "log")}
        for path in variables.values():
            Path(path).mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **variables}
        started = subprocess.run(
            [control, "-d"], env=env, capture_output=True, text=True, timeout=60
        )
        if started.returncode != 0:
            raise MpsUnavailableError(
                f"{CONTROL} -d exited with {started.returncode}: "
                f"{_first_line(started.stderr or started.stdout)}"
            )
        before = {name: os.environ.get(name) for name in variables}
        os.environ.update(variables)
        try:
            yield
        finally:
            try:
                subprocess.run([control], input="quit\n", env=env, text=True,
                               capture_output=True, timeout=60)  # fmt: skip
            except subprocess.TimeoutExpired:  # it ends with the machine; the results stand
                log.warning("%s did not quit within 60 s", CONTROL)
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def sharing_environment(jobs: int) -> dict[str, str]:
    """The environment of a run the GPU queue starts: this process's, and the queue's jobs."""
    return {**os.environ, JOBS_VARIABLE: str(jobs)}


def device_sharing(launcher: Mapping[str, Any] | None) -> dict[str, Any]:
    """How the device was shared while the run trained, for its row: the runs at once (the GPU
    queue's, else the launcher's) and whether under MPS (processes started inside `mps_daemon`
    have its variable). A training rate depends on both: 14 GANomaly jobs on the H200 each ran
    at a third of one process's rate, so the queue estimates a run from rows shared alike."""
    queue_jobs = os.environ.get(JOBS_VARIABLE)
    if queue_jobs is not None and not (queue_jobs.isdigit() and int(queue_jobs) > 0):
        raise ValueError(f"{JOBS_VARIABLE}={queue_jobs!r}: allowed a positive whole number")
    jobs = int(queue_jobs) if queue_jobs else launcher_jobs(launcher, available_cores())
    return {"device_jobs": jobs, "device_mps": bool(os.environ.get(PIPE_VARIABLE))}
