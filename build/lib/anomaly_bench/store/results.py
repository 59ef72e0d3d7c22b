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
from pathlib import Path
from typing import Any

from filelock import FileLock
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from anomaly_bench.store.run_identity import run_key, smoke_settings

log = logging.getLogger(__name__)

RESULTS_FILE = "results.jsonl"
LOCK_TIMEOUT_S = 120


def _json_safe(value: Any) -> Any:
    """Non-finite floats become null: strict JSON has no NaN, and a NaN metric is no metric."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(item) for item in value]
    return value


def key_today(row: dict[str, Any]) -> str | None:
    """The row's run key under today's identity rules (its stored key when it saved no config)."""
    config = row.get("config")
    if not config:
        return row.get("run_key")
    try:
        return run_key(OmegaConf.create(config))
    except (OmegaConfBaseException, KeyError, AttributeError, TypeError):
        return row.get("run_key")  # saved unresolved, or older than a key it needs


def is_smoke(row: dict[str, Any]) -> bool:
    """A run cut short (fast_dev_run, a batch limit): it never counts as done nor in a table.
    Rows written before the `smoke` field say it through their saved trainer config."""
    if "smoke" in row:
        return bool(row["smoke"])
    trainer = (row.get("config") or {}).get("trainer") or {}
    return bool(row.get("fast_dev_run")) or bool(smoke_settings(trainer))


class ResultsStore:
    """Append-only JSON lines in `<results_dir>/results.jsonl`, safe for concurrent writers."""

    def __init__(self, results_dir: str | Path) -> None:
        self.path = Path(results_dir) / RESULTS_FILE
        self._lock = FileLock(str(self.path) + ".lock", timeout=LOCK_TIMEOUT_S)

    def append(self, row: dict[str, Any]) -> None:
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

    def read(self) -> list[dict[str, Any]]:
        """Every valid row in write order; torn or corrupt lines are skipped and counted."""
        if not self.path.exists():
            return []
        rows, skipped = [], 0
        with self.path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    skipped += 1
                    continue
                if isinstance(row, dict):
                    rows.append(row)
                else:
                    skipped += 1
        if skipped:
            log.warning("%s: skipped %d torn or corrupt line(s)", self.path, skipped)
        return rows

    def latest_ok(self, key: str) -> dict[str, Any] | None:
        """The last `ok` row written for this run identity, if any. A row's key is recomputed
        from its saved config, so a run written before the identity's rules last changed (the
        scoring batch size left it) still counts as done; a row whose stored key matches needs no
        recomputing."""
        done = [
            row
            for row in self.read()
            if row.get("status") == "ok"
            and not is_smoke(row)
            and (row.get("run_key") == key or key_today(row) == key)
        ]
        return done[-1] if done else None
