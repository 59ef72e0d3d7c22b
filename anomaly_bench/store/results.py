"""The results store: one JSON object per run, appended to `results.jsonl`.

Appends are one `write` of a whole line on an `O_APPEND` descriptor under a file lock, then an
fsync, so concurrent runs of a grid never interleave and a crash can at worst leave a torn last
line, which readers skip with a warning. Nothing ever rewrites rows already written.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from filelock import FileLock
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from anomaly_bench.settings.protocols import class_key
from anomaly_bench.settings.whole_files import write_whole, written_whole
from anomaly_bench.store.row_schema import OK_FIELDS, OK_METRICS, ROW_FIELDS, ResultRow
from anomaly_bench.store.run_identity import run_key, smoke_settings

log = logging.getLogger(__name__)

RESULTS_FILE = "results.jsonl"
# Where a run keeps its row when the store cannot take it (in the run's output folder).
FALLBACK_FILE = "row.json"
# A run's example pictures (`evaluation/example_pictures.py`), kept beside its row by run key.
PICTURES_DIR = "example_pictures"
LOCK_TIMEOUT_S = 120
# Configs whose run key `key_today` keeps (about 3 KB of text each): more runs than a paper grid.
KEYS_REMEMBERED = 4096


def _json_safe(value: Any) -> Any:
    """Non-finite floats become null: strict JSON has no NaN, and a NaN metric is no metric."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def key_today(row: ResultRow) -> str | None:
    """The row's run key under today's identity rules (its stored key when it saved no config).
    The config is read as the store keeps it (JSON, `default=str`)."""
    config = row.get("config")
    if not config:
        return row.get("run_key")
    return _key_of_config(json.dumps(config, default=str)) or row.get("run_key")


@lru_cache(maxsize=KEYS_REMEMBERED)
def _key_of_config(config_json: str) -> str | None:
    """Remembered per config text: a report asks for every row's key in every table and column
    it draws (61 times a row for the reference pages), and composing the config is the cost."""
    try:
        return run_key(OmegaConf.create(json.loads(config_json)))
    except (OmegaConfBaseException, KeyError, AttributeError, TypeError, ValueError):
        return None  # saved unresolved, or older than a key it needs


STATUSES = ("ok", "failed")


def row_problem(row: Any) -> str | None:
    """Why a row read back from the store cannot be used (None when it can): a row hand-edited,
    written by another tool, or corrupted must cost only itself, never the report or skip_done."""
    if not isinstance(row, dict):
        return f"not a JSON object but a {type(row).__name__}"
    fields = ROW_FIELDS
    if row.get("status") == "ok":
        fields = fields | OK_FIELDS | {class_key(str(row.get("protocol"))): int}
    for field, kind in fields.items():
        value = row.get(field)
        if value is None:
            return f"no {field!r}"
        if not isinstance(value, kind) or isinstance(value, bool):
            return f"{field}={value!r} is not a {kind.__name__}"
    if row["status"] not in STATUSES:
        return f"status={row['status']!r}; allowed: {', '.join(STATUSES)}"
    if row["status"] == "ok":
        for metric in OK_METRICS:
            value = row.get(metric)
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"an ok row with {metric}={value!r}, not a number"
            if not math.isfinite(value) or not 0.0 <= value <= 1.0:
                return f"an ok row with {metric}={value!r}, not in [0, 1]"
    return None


def parsed_row(line: str) -> tuple[Any, str | None]:
    """A line of a store read as a row, and why that row cannot be used (None when it can)."""
    try:
        row = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as err:
        return None, f"not JSON ({type(err).__name__})"
    return row, row_problem(row)


def is_smoke(row: ResultRow) -> bool:
    """A run cut short (fast_dev_run, a batch limit): it never counts as done nor in a table.
    Rows written before the `smoke` field say it through their saved trainer config."""
    if "smoke" in row:
        return bool(row["smoke"])
    trainer = (row.get("config") or {}).get("trainer") or {}
    return bool(row.get("fast_dev_run")) or bool(smoke_settings(trainer))


def latest_ok_rows(rows: Iterable[ResultRow], with_smoke: bool = False) -> list[ResultRow]:
    """The `ok` rows (smoke tests only `with_smoke`); of a run rerun (the same run key under
    today's rules, `key_today`), its latest row only, so a rerun never counts as a second seed."""
    latest = {
        key_today(row) or id(row): row
        for row in rows
        if row.get("status") == "ok" and (with_smoke or not is_smoke(row))
    }
    return list(latest.values())


def no_store_message(results_dir: str | Path) -> str:
    """Why a verb that reads finished runs cannot start here, and what gives it some: a newcomer's
    first `report` is in a folder where nothing has trained yet."""
    return (
        f"--results-dir {results_dir} holds no {RESULTS_FILE}: no run has written a row there "
        "yet (`anomaly-bench train ...` writes into results, `anomaly-bench demo` into "
        "results/demo; the project's reference runs are in docs/results of its repository)"
    )


class RowNotStoredError(OSError):
    """The store could not take a row; the message says where the row was kept instead."""


class ResultsStore:
    """Append-only JSON lines in `<results_dir>/results.jsonl`, safe for concurrent writers."""

    def __init__(self, results_dir: str | Path) -> None:
        self.path = Path(results_dir) / RESULTS_FILE
        self._lock = FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT_S)

    def picture_path(self, run_key: str) -> Path:
        """Where the store keeps a run's example pictures (the report looks there)."""
        return self.path.parent / PICTURES_DIR / f"{run_key}.png"

    def keep_picture(self, run_key: str, source: str | Path) -> Path:
        """Copy a run's pictures into the store, whole or not at all (a rerun replaces them)."""
        target = self.picture_path(run_key)
        with written_whole(target) as partial:
            shutil.copyfile(source, partial)
        return target

    def check_writable(self) -> None:
        """Refuse, before a run trains, a store its row could not reach: a file where the folder
        should be, a folder or file without write permission."""
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise ValueError(
                f"paths.results_dir={folder} is not a folder; allowed: a writable folder"
            ) from None
        except OSError as err:
            raise ValueError(
                f"paths.results_dir={folder} cannot be created ({err.strerror}); allowed: a "
                "writable folder"
            ) from None
        for target in (folder, self.path):
            if target.exists() and not os.access(target, os.W_OK):
                raise ValueError(
                    f"paths.results_dir={folder}: {target} is not writable, so a run's row could "
                    "not be kept; allowed: a writable folder"
                )

    def append_or_keep(self, row: ResultRow, fallback_dir: str | Path) -> None:
        """Append; when the store cannot take the row, keep it in `fallback_dir/row.json` and
        raise saying where, so no run's result is lost and its exit status says it failed."""
        try:
            self.append(row)
        except OSError as err:
            fallback = Path(fallback_dir) / FALLBACK_FILE
            write_whole(fallback, json.dumps(_json_safe(row), default=str) + "\n")
            raise RowNotStoredError(
                f"{self.path}: the row could not be appended ({err}); it is kept in {fallback}: "
                "append that line to the store once it is writable"
            ) from err

    def append(self, row: ResultRow) -> None:
        line = json.dumps(_json_safe(row), default=str, allow_nan=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                if self._ends_torn(fd):
                    line = "\n" + line
                os.write(fd, line.encode())
                os.fsync(fd)
            finally:
                os.close(fd)

    @staticmethod
    def _ends_torn(fd: int) -> bool:
        """True when a crashed writer left a last line without its newline."""
        size = os.fstat(fd).st_size
        return size > 0 and os.pread(fd, 1, size - 1) != b"\n"

    def read(self) -> list[ResultRow]:
        """Every valid row in write order. A torn, corrupt or malformed line is skipped with a
        warning naming its line number and why (`row_problem`)."""
        if not self.path.exists():
            return []
        rows = []
        with self.path.open(encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                row, problem = parsed_row(line)
                if problem is None:
                    rows.append(row)
                else:
                    log.warning("%s line %d skipped: %s", self.path, number, problem)
        return rows

    def latest_ok(self, key: str, with_smoke: bool = False) -> ResultRow | None:
        """The last `ok` row written for this run identity, if any (a smoke test's only
        `with_smoke`: it never counts as done). A row's key is recomputed from its saved config,
        so a run written before the identity's rules last changed (the scoring batch size left
        it) still counts as done; a row whose stored key matches needs no recomputing."""
        done = [
            row
            for row in self.read()
            if row.get("status") == "ok"
            and (with_smoke or not is_smoke(row))
            and (row.get("run_key") == key or key_today(row) == key)
        ]
        return done[-1] if done else None
