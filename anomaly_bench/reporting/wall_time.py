"""How long a grid kept its device busy: the wall time beside the summed run hours.

A grid's runs share a device (14 at once on a GPU, two lanes on a CPU), so their summed run
hours say what the grid cost and not how long it took; a goal such as "the full-data Table 3 in
five minutes on one H200" is about the second. A row says when its process started
(`timestamp`) and how long it then trained and scored, so the union of those intervals is the
time during which at least one of the grid's runs was training or scoring: sessions apart and
the idle gaps between runs are not counted, nor a process's start-up before its row, nor the
earlier processes of a resumed run (the row's own seconds are the last process's).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime


def interval(row: Mapping) -> tuple[float, float]:
    """(start, end) in seconds since the epoch: the row's process start plus its training and
    scoring seconds."""
    start = datetime.fromisoformat(row["timestamp"]).timestamp()
    return start, start + (row.get("train_seconds") or 0.0) + (row.get("test_seconds") or 0.0)


def busy_seconds(rows: Iterable[Mapping]) -> float:
    """Seconds covered by at least one row's interval."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(interval(row) for row in rows):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def at_once(rows: list[Mapping]) -> str:
    """How many runs shared the device, as the rows recorded it (`device_jobs`): the wall time
    depends on it as much as on the device. Empty where a row did not record it."""
    jobs = {row.get("device_jobs") for row in rows}
    if None in jobs:
        return ""
    fewest, most = min(jobs), max(jobs)
    return f", {most} at once" if fewest == most else f", {fewest}-{most} at once"


def wall_time_line(rows: list[Mapping]) -> str:
    """One sentence: per device, the grid's busy wall time and its runs (resumed ones named);
    empty when no row says when it started."""
    timed = [row for row in rows if row.get("timestamp")]
    parts = []
    for device in sorted({str(row.get("device")) for row in timed}):
        mine = [row for row in timed if str(row.get("device")) == device]
        resumed = sum(1 for row in mine if row.get("resumed_from"))
        note = at_once(mine) + (f", {resumed} of them resumed" if resumed else "")
        parts.append(f"{device} {duration(busy_seconds(mine))} ({len(mine)} runs{note})")
    if not parts:
        return ""
    return (
        "Wall time (while at least one run was training or scoring; start-up, gaps between "
        "sessions and resumed runs' earlier processes not counted): " + "; ".join(parts) + "."
    )
