"""The GPU speed page: a committed speed matrix read back into the fastest setting per method,
Mem_GANomaly's ratio to GANomaly against 0.8x, and the Table 3 grid's wall time against five
minutes on one H200."""

from __future__ import annotations

import json
from pathlib import Path

from anomaly_bench.reporting.gpu_speed import grid_lines, markdown


def cell(method: str, variant: str, jobs: int, rate: float) -> dict:
    return {"method": method, "variant": variant, "jobs": jobs,
            "train_images_per_second_total": rate}  # fmt: skip


def write_matrix(folder: Path) -> None:
    cells = [
        cell("ganomaly", "float32", 14, 20000.0),
        cell("ganomaly", "bf16", 14, 30000.0),
        cell("mem_ganomaly", "float32", 14, 9000.0),
        cell("mem_ganomaly", "bf16", 14, 25000.0),
        {"method": "mem_ganomaly", "variant": "cuda_graphs", "jobs": 14, "error": "not captured"},
    ]
    matrix = {"device": "NVIDIA H200", "torch": "2.11.0+cu130", "cells": cells}
    (folder / "speed_matrix_nvidia_h200.json").write_text(json.dumps(matrix))


def table_line(page: str, start: str) -> str:
    [line] = [line for line in page.splitlines() if line.startswith(start)]
    return line


def test_a_committed_matrix_gives_the_fastest_setting_and_the_ratio_against_its_goal(tmp_path):
    write_matrix(tmp_path)
    page = markdown(tmp_path, [], [], runs_per_grid=70)
    assert "[speed_matrix_nvidia_h200.md](speed_matrix_nvidia_h200.md)" in page
    assert table_line(page, "| mem_ganomaly | 14 |") == (
        "| mem_ganomaly | 14 | bf16 | 25,000 | 2.78x |"
    )
    assert table_line(page, "| float32 | 14 |") == "| float32 | 14 | 20,000 | 9,000 | 0.45 | no |"
    assert table_line(page, "| bf16 | 14 |") == "| bf16 | 14 | 30,000 | 25,000 | 0.83 | yes |"
    assert "1 cells failed or were not run" in page
    assert "None yet" not in markdown(tmp_path, [], [], 70)
    assert "None yet: `make gpu-speed`" in markdown(tmp_path / "empty", [], [], 70)


def rows(count: int, seconds: float, device: str = "NVIDIA H200", seed: int = 0) -> list[dict]:
    """`count` runs that all start together and take `seconds`."""
    row = {"timestamp": "2026-12-01T10:00:00+00:00", "train_seconds": seconds,
           "test_seconds": 0.0, "device": device, "seed": seed}  # fmt: skip
    return [row] * count


def test_the_grid_is_held_against_five_minutes_only_when_all_its_runs_are_in_on_an_h200():
    assert grid_lines(rows(70, 290), [], 70) == [
        "- NVIDIA H200, seed 0: 70 of 70 runs, 4.8 min (goal met)"
    ]
    assert "goal not met" in grid_lines(rows(70, 400), [], 70)[0]
    assert "not all in yet" in grid_lines(rows(69, 100), [], 70)[0]
    h100 = grid_lines(rows(70, 100, device="NVIDIA H100 80GB HBM3"), [], 70)[0]
    assert "another device than the goal's NVIDIA H200" in h100
    # Cells a CPU lane ran are skipped by the GPU queue: the seed is whole but split, and says so.
    split = grid_lines([*rows(40, 200), *rows(30, 3000, device="cpu")], [], 70)
    assert split == [
        "- NVIDIA H200, seed 0: 40 of 70 runs, 3.3 min (30 more on cpu: no one-device time to "
        "hold to the goal)",
        "- cpu, seed 0: 30 of 70 runs, 50.0 min (40 more on NVIDIA H200: no one-device time to "
        "hold to the goal)",
    ]
    assert "not all in yet" in grid_lines([*rows(40, 200), *rows(29, 9, "cpu")], [], 70)[0]
    assert grid_lines([], rows(70, 282), 70) == [
        "- no full-data run yet (the GPU queue's first step, `table3_seed0`)",
        "- for scale, the grid on one fifth of the training images: 70 runs, 4.7 min on "
        "NVIDIA H200",
    ]
