"""A failed run says why in one line; the traceback goes to the run's log file.

Every error a user can cause is named (the key, the value, what is allowed), so the traceback
Hydra prints under it is noise to the user and evidence to a developer: it is kept, in the run's
`train.log` (Hydra's job log) and on the console with `HYDRA_FULL_ERROR=1`. In a multirun the
job's exception goes to Hydra as before, which records the failure and runs the other jobs.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf.errors import MissingMandatoryValue

FULL_ERROR_ENV = "HYDRA_FULL_ERROR"


def wants_traceback() -> bool:
    """The user asked for the whole traceback, or this is a multirun job (Hydra handles it)."""
    if os.environ.get(FULL_ERROR_ENV) == "1":
        return True
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def traceback_to_log_files(err: BaseException) -> list[Path]:
    """Write the error with its traceback to the log files the root logger writes (the run's
    `train.log`), not to the console; the files written."""
    record = logging.LogRecord(
        "anomaly_bench", logging.ERROR, __file__, 0, "the run failed", None,
        (type(err), err, err.__traceback__),
    )  # fmt: skip
    files = []
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)
            files.append(Path(handler.baseFilename))
    return files


def one_line(err: BaseException) -> str:
    """The error's message on one line; a setting the config leaves to the user (`???`, such as
    `data.root` of `data=folder`) says which, and how to give it, instead of OmegaConf's words."""
    if isinstance(err, MissingMandatoryValue):
        key = err.full_key
        return f"{key} has no value, and the run needs one: add {key}=... to the command"
    return " ".join(str(err).split())


def exit_with_one_line(err: BaseException) -> None:
    """Print `error: <Type>: <message>` and where the traceback is, then exit with status 1."""
    files = traceback_to_log_files(err)
    where = f"traceback in {files[0]}; " if files else ""
    message = one_line(err)
    print(
        f"error: {type(err).__name__}: {message} ({where}{FULL_ERROR_ENV}=1 prints it here)",
        file=sys.stderr,
    )
    raise SystemExit(1) from None
