"""The GPU speed page (docs/results/gpu_speed.md): the GPU's goals and what meets them, from the
committed files alone.

The defaults a GPU run gets are chosen for speed, and may only be if they do not move results;
the goals are Mem_GANomaly training at 0.8x GANomaly's images per second or better, and the
full-data Table 3 grid in five minutes on one H200. This page puts the evidence side by side:
each speed matrix a lent GPU measured (`make gpu-speed`, committed as
`speed_matrix_<device>.json`), the defaults as configured, the strict-float32 check
(numerics_check.md) and the grid's wall time from its rows (`wall_time`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from anomaly_bench import CONF_DIR
from anomaly_bench.reporting.claim import BASELINE, PROPOSED
from anomaly_bench.reporting.comparison import markdown_grid
from anomaly_bench.reporting.wall_time import busy_seconds, duration

MATRIX_GLOB = "speed_matrix_*.json"
RATIO_GOAL = 0.8
GRID_GOAL_S = 300.0
GRID_GOAL_DEVICE = "NVIDIA H200"
INTRO = (
    "Each speed matrix a lent GPU measured (`make gpu-speed`, committed beside this page as "
    "`speed_matrix_<device>.json`), the GPU defaults as configured, whether a faster arithmetic "
    "moves AUROC, and the full-data Table 3 grid's wall time, against the goals: Mem_GANomaly "
    f"training at {RATIO_GOAL}x GANomaly's images per second or better, and the grid in five "
    "minutes on one H200. A default may be chosen for speed only where it does not move results."
)


def measured(cells: list[dict[str, Any]]) -> pd.DataFrame:
    """Method, setting, jobs and training images per second over all jobs of the cells that
    ran (a failed or cut-off cell has an `error` instead)."""
    ran = [cell for cell in cells if "error" not in cell]
    frame = pd.DataFrame(
        ran, columns=["method", "variant", "jobs", "train_images_per_second_total"]
    )
    return frame.set_axis(["method", "setting", "jobs", "rate"], axis=1)


def fastest_rows(cells: list[dict[str, Any]]) -> list[list[str]]:
    """Per method and job count, the setting with the most training images per second and its
    gain over float32 at the same jobs."""
    rates = measured(cells)
    if rates.empty:
        return []
    best = rates.loc[rates.groupby(["method", "jobs"])["rate"].idxmax()]
    float32 = rates[rates.setting == "float32"].set_index(["method", "jobs"])["rate"]
    lines = []
    for row in best.sort_values(["method", "jobs"]).itertuples():
        base = float32.get((row.method, row.jobs))
        gain = f"{row.rate / base:.2f}x" if base else "-"
        lines.append([row.method, str(row.jobs), row.setting, f"{row.rate:,.0f}", gain])
    return lines


def ratio_rows(cells: list[dict[str, Any]]) -> list[list[str]]:
    """Per setting and job count where both ran: Mem_GANomaly's training rate over GANomaly's."""
    wide = measured(cells).pivot_table(index=["setting", "jobs"], columns="method", values="rate")
    if not {BASELINE, PROPOSED} <= set(wide.columns):
        return []
    both = wide[[BASELINE, PROPOSED]].dropna()
    return [
        [setting, str(jobs), f"{baseline:,.0f}", f"{rate:,.0f}", f"{rate / baseline:.2f}",
         "yes" if rate / baseline >= RATIO_GOAL else "no"]
        for (setting, jobs), baseline, rate in zip(
            both.index, both[BASELINE], both[PROPOSED], strict=True
        )
    ]  # fmt: skip


def matrix_section(path: Path) -> list[str]:
    matrix = json.loads(path.read_text())
    cells = matrix.get("cells", [])
    name = f"{matrix.get('device')} (torch {matrix.get('torch')})"
    lines = [
        f"### {name}: [{path.stem}.md]({path.stem}.md)",
        "",
        "The fastest setting per method and job count (all jobs' training images per second):",
        "",
        *markdown_grid(["method", "jobs", "fastest setting", "train img/s", "x float32"],
                       fastest_rows(cells)),
        "",
        f"{PROPOSED} against {BASELINE} (goal: {RATIO_GOAL}x or better):",
        "",
        *markdown_grid(["setting", "jobs", f"{BASELINE} img/s", f"{PROPOSED} img/s", "ratio",
                        f"{RATIO_GOAL}x or better"], ratio_rows(cells)),
    ]  # fmt: skip
    failed = [c for c in cells if "error" in c]
    if failed:
        lines += ["", f"{len(failed)} cells failed or were not run; the matrix says why."]
    return lines


def defaults_lines(conf_dir: Path = CONF_DIR) -> list[str]:
    """What `trainer=gpu` runs with today, read from the configs (not from a matrix): the
    defaults change only by an edit there, with this page's evidence."""
    trainer = {
        **yaml.safe_load((conf_dir / "trainer" / "default.yaml").read_text()),
        **yaml.safe_load((conf_dir / "trainer" / "gpu.yaml").read_text()),
    }
    speedups = yaml.safe_load((conf_dir / "callbacks" / "default.yaml").read_text())["speedups"]
    launcher = yaml.safe_load((conf_dir / "hydra" / "launcher" / "shared_gpu.yaml").read_text())
    tf32 = {None: "torch's defaults (TF32 convolutions, float32 matmuls)", True: "on", False: "off"}
    return [
        f"- `trainer.precision`: {trainer['precision']}; cuDNN autotuning "
        f"(`trainer.benchmark`): {trainer['benchmark']}",
        f"- `callbacks.speedups.tf32`: {tf32[speedups['tf32']]}; `channels_last`: "
        f"{speedups['channels_last']}; `compile`: {speedups['compile']} "
        f"(mode {speedups['compile_mode']})",
        f"- jobs sharing the GPU: {launcher['n_jobs']} in the `shared_gpu` launcher "
        "(`hydra.launcher.n_jobs`); the GPU queue's own count is `GPU_JOBS` (`make gpu-session`)",
    ]


def _verdict(device: str, seconds: float, runs: int, elsewhere: dict[str, int], grid: int) -> str:
    """The goal is held against a whole grid run on one H200; a seed whose runs are all in
    but split across devices (the GPU queue skips a cell a CPU lane already ran) has no such
    time, and says where the rest ran instead of waiting forever for runs that will not come."""
    if runs == grid:
        if device != GRID_GOAL_DEVICE:
            return f"another device than the goal's {GRID_GOAL_DEVICE}"
        return "goal met" if seconds <= GRID_GOAL_S else "goal not met"
    if runs + sum(elsewhere.values()) < grid:
        return "not all in yet"
    where = ", ".join(f"{n} more on {other}" for other, n in sorted(elsewhere.items()))
    return f"{where}: no one-device time to hold to the goal"


def grid_lines(full: list[Mapping], one_fifth: list[Mapping], runs_per_grid: int) -> list[str]:
    """Per seed and device, the full-data Table 3 grid's wall time and how many of its runs
    are in, against the goal; the one-fifth grid's beside it for scale."""
    groups: dict[int, dict[str, list[Mapping]]] = {}
    for row in full:
        groups.setdefault(row.get("seed"), {}).setdefault(str(row.get("device")), []).append(row)
    lines = []
    for seed, by_device in sorted(groups.items()):
        for device, members in sorted(by_device.items()):
            seconds = busy_seconds(members)
            elsewhere = {d: len(m) for d, m in by_device.items() if d != device}
            verdict = _verdict(device, seconds, len(members), elsewhere, runs_per_grid)
            lines.append(
                f"- {device}, seed {seed}: {len(members)} of {runs_per_grid} runs, "
                f"{duration(seconds)} ({verdict})"
            )
    if not lines:
        lines.append("- no full-data run yet (the GPU queue's first step, `table3_seed0`)")
    if one_fifth:
        devices = ", ".join(sorted({str(row.get("device")) for row in one_fifth}))
        lines.append(
            f"- for scale, the grid on one fifth of the training images: {len(one_fifth)} runs, "
            f"{duration(busy_seconds(one_fifth))} on {devices}"
        )
    return lines


def markdown(
    page_dir: Path, full: list[Mapping], one_fifth: list[Mapping], runs_per_grid: int
) -> str:
    matrices = sorted(page_dir.glob(MATRIX_GLOB))
    lines = [
        "# GPU speed: the defaults, what they cost in results, and the Table 3 grid's time",
        "",
        INTRO,
        "",
        "## The speed matrices",
        "",
    ]
    for path in matrices:
        lines += [*matrix_section(path), ""]
    if not matrices:
        lines += ["None yet: `make gpu-speed` in a session with a GPU (docs/gpu_session.md).", ""]
    lines += ["## The GPU defaults today", "", *defaults_lines(), ""]
    lines += [
        "## Does a faster arithmetic move AUROC?",
        "",
        "[numerics_check.md](numerics_check.md): each run in strict float32 beside its twin in "
        "the faster arithmetic, the difference against the seed-to-seed spread.",
        "",
        f"## The full-data Table 3 grid against {duration(GRID_GOAL_S)} on one H200",
        "",
        "Wall time: while at least one of the grid's runs was training or scoring "
        "([table3.md](table3.md) gives it per device).",
        "",
        *grid_lines(full, one_fifth, runs_per_grid),
    ]
    return "\n".join(lines) + "\n"
