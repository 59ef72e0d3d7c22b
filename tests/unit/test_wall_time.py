"""A grid's wall time: the union of its runs' busy intervals, per device."""

from __future__ import annotations

import pytest

from anomaly_bench.reporting.wall_time import busy_seconds, wall_time_line


def row(start: str, train: float, test: float = 0.0, **extra) -> dict:
    return {"timestamp": f"2026-11-26T04:{start}+00:00", "train_seconds": train,
            "test_seconds": test, **extra}  # fmt: skip


def test_overlapping_runs_count_once_and_a_gap_not_at_all():
    rows = [
        row("00:00", 100, 20),  # 0-120
        row("01:00", 30),  # 60-90, inside the first
        row("01:50", 40),  # 110-150, overlaps its end
        row("10:00", 5, 5),  # 600-610, after a gap
    ]
    assert busy_seconds(rows) == pytest.approx(150 + 10)
    assert busy_seconds(reversed(rows)) == pytest.approx(160)
    assert busy_seconds([]) == 0


def test_the_line_gives_each_device_its_own_time_and_names_resumed_runs():
    rows = [
        row("00:00", 200, device="NVIDIA H200"),
        row("00:30", 200, device="NVIDIA H200"),
        row("00:00", 7000, 400, device="cpu", resumed_from="last.ckpt"),
        row("00:00", 10, device="cpu"),
    ]
    line = wall_time_line(rows)
    assert "NVIDIA H200 3.8 min (2 runs)" in line
    assert "cpu 2.1 h (2 runs, 1 of them resumed)" in line
    assert line.index("NVIDIA H200") < line.index("cpu 2.1 h")


def test_the_line_says_how_many_runs_shared_the_device_where_every_row_recorded_it():
    shared = [row("00:00", 60, device="NVIDIA H200", device_jobs=j) for j in (14, 14, 28)]
    assert "NVIDIA H200 60 s (3 runs, 14-28 at once)" in wall_time_line(shared)
    assert "(2 runs, 14 at once)" in wall_time_line(shared[:2])
    earlier = row("00:00", 60, device="NVIDIA H200")  # written before rows recorded it
    assert "(3 runs)" in wall_time_line([*shared[:2], earlier])
