"""Training speed of each method under each speed setting, one process and several sharing the
device: the figures the GPU defaults are chosen from (docs/gpu_session.md).

    python -m anomaly_bench.benchmarks.speed_matrix --methods ganomaly,mem_ganomaly \
        --variants float32,tf32,bf16,channels_last,cuda_graphs,mps --jobs 1,14 --profile trainer=gpu

Each cell starts `jobs` processes at once, each timing the method's training and scoring as
`make bench` does (`method_speed.measure`, random images of CIFAR-10's shape by default); the
aggregate is the sum of their rates, what a grid of that many jobs gets from the device.
`--profile` adds, per method in float32 and one process, where a training step's time goes
(`step_profile`: operators, kernels and syncs per step, the operators with most self time).
`--seconds` bounds the whole: each cell is written as soon as it is measured, a cell that fails
says why in the table, and the exit status says whether any failed or was cut off.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from anomaly_bench.benchmarks.method_speed import (
    BenchCase,
    measure,
)
from anomaly_bench.benchmarks.processes import in_fresh_processes
from anomaly_bench.benchmarks.step_profile import profile_case
from anomaly_bench.benchmarks.suite import markdown_table
from anomaly_bench.engine.gpu_sharing import mps_daemon
from anomaly_bench.engine.runtime import device_name
from anomaly_bench.settings.bench_settings import BenchSettings
from anomaly_bench.settings.checks import COUNT_ARG, POSITIVE_ARG, check_list, count_list_arg
from anomaly_bench.settings.command_line import verb_parser
from anomaly_bench.settings.method_facts import method_ids
from anomaly_bench.settings.whole_files import write_whole

# Each speed setting as the overrides that switch it on; float32 is torch's strict float32.
VARIANTS = {
    "float32": ("callbacks.speedups.tf32=false",),
    # float32 with CUDA's Multi-Process Service running, so the jobs' kernels share the chip
    # instead of taking turns (engine/gpu_sharing.py): second, as a grid of 14 jobs may gain
    # most from it.
    "mps": ("callbacks.speedups.tf32=false",),
    "tf32": ("callbacks.speedups.tf32=true",),
    "bf16": ("trainer.precision=bf16-mixed",),
    "channels_last": ("callbacks.speedups.channels_last=true",),
    # One operator per parameter group for Adam's update instead of the eight multi-tensor ones
    # of torch's default on a GPU (`foreach`): the same update, not bitwise (docs/speed.md).
    "fused_adam": ("+model.optimizer.fused=true",),
    "cuda_graphs": (
        "callbacks.speedups.compile=true",
        "callbacks.speedups.compile_mode=reduce-overhead",
    ),
}
# Settings measured under the MPS daemon, only where several jobs share the GPU.
UNDER_MPS = frozenset({"mps"})


class Deadline:
    """The seconds a matrix may take (None: no limit), so that a device call that ends at a hard
    limit still hands back every cell it measured (each is written as soon as it is known)."""

    def __init__(self, seconds: float | None) -> None:
        self.end = None if seconds is None else time.monotonic() + seconds

    def left_s(self) -> float | None:
        return None if self.end is None else max(self.end - time.monotonic(), 0.0)


def attempt(work: Callable[..., dict[str, Any]], deadline: Deadline, *args: Any) -> dict[str, Any]:
    """`work`'s result, or why there is none: a setting this device cannot run (CUDA graphs
    that fail to capture, say) is one of the matrix's findings, not the end of it."""
    left = deadline.left_s()
    if left == 0:
        return {"error": "not run: the matrix's --seconds were spent"}
    try:
        return work(*args, timeout_s=left)
    except multiprocessing.TimeoutError:
        return {"error": "stopped: the matrix's --seconds ran out while it ran"}
    except Exception as error:  # any failure of a cell is that cell's result
        first_line = (str(error).strip().splitlines() or [""])[0][:300]
        return {"error": f"{type(error).__name__}: {first_line}"}


def measure_together(
    case: BenchCase, settings: BenchSettings, jobs: int, timeout_s: float | None = None
) -> dict[str, Any]:
    """`jobs` processes timing the same case at once: their summed and their mean rates."""
    rows = in_fresh_processes(measure, case, settings, jobs, timeout_s)
    train = [row["train_images_per_second"] for row in rows]
    score = [row["score_images_per_second"] for row in rows]
    return {
        "device": rows[0]["device"],
        "precision": rows[0]["precision"],
        "train_images_per_second_per_job": round(sum(train) / jobs, 1),
        "train_images_per_second_total": round(sum(train), 1),
        "score_images_per_second_total": round(sum(score), 1),
        "peak_gpu_mb_per_job": rows[0].get("peak_gpu_mb"),
    }


def measure_under_mps(
    case: BenchCase, settings: BenchSettings, jobs: int, timeout_s: float | None = None
) -> dict[str, Any]:
    """`measure_together` with the MPS daemon running for the cell's length."""
    with mps_daemon():
        return measure_together(case, settings, jobs, timeout_s)


def matrix(
    methods: list[str],
    variants: list[str],
    jobs: list[int],
    settings: BenchSettings,
    channels: int,
    deadline: Deadline,
) -> Iterator[dict[str, Any]]:
    """Each cell as soon as it is measured (or has failed, or the deadline has passed); every
    setting in one process before any in several, so a matrix cut short by its deadline still
    has each setting against float32."""
    for n in jobs:
        for method in methods:
            for variant in variants:
                if variant in UNDER_MPS and n == 1:
                    continue
                case = BenchCase(method, method, channels, VARIANTS[variant])
                print(f"{method}, {variant}, {n} job(s)", file=sys.stderr, flush=True)
                measure_cell = measure_under_mps if variant in UNDER_MPS else measure_together
                found = attempt(measure_cell, deadline, case, settings, n)
                yield {"method": method, "variant": variant, "jobs": n, **found}


def profile_once(
    case: BenchCase, settings: BenchSettings, timeout_s: float | None = None
) -> dict[str, Any]:
    return in_fresh_processes(profile_case, case, settings, timeout_s=timeout_s)[0]


def profiles(
    methods: list[str], settings: BenchSettings, channels: int, deadline: Deadline
) -> Iterator[dict[str, Any]]:
    """One step profile per method, float32, each in a fresh process."""
    for method in methods:
        print(f"{method}, step profile", file=sys.stderr, flush=True)
        case = BenchCase(method, method, channels, VARIANTS["float32"])
        yield {"method": method, **attempt(profile_once, deadline, case, settings)}


def table(rows: list[dict[str, Any]], columns: dict[str, str]) -> str:
    """A markdown table with "-" where a row has no figure (a device-only count on a CPU, a cell
    that failed), and each failed row's reason last."""
    shown = {**columns, "error": "not measured because"}
    return markdown_table(
        [{key: "-" if row.get(key) is None else row[key] for key in shown} for row in rows], shown
    )


def profile_markdown(found: list[dict[str, Any]]) -> str:
    """Counts per step, then each method's top operators by self time."""
    text = table(found, PROFILE_COLUMNS)
    for entry in found:
        if "error" not in entry:
            text += f"\n\n{entry['method']}, self time on the {entry['self_time_on']} per step:\n\n"
            text += markdown_table(entry["top_operators"], OPERATOR_COLUMNS)
    return text


def with_ratios(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each measured cell's total training rate against float32's at the same method and jobs."""
    base = {
        (c["method"], c["jobs"]): c["train_images_per_second_total"]
        for c in cells
        if c["variant"] == "float32" and "error" not in c
    }
    return [
        {**c, "vs_float32": round(c["train_images_per_second_total"] / base[key], 2)}
        if (key := (c["method"], c["jobs"])) in base and "error" not in c
        else c
        for c in cells
    ]


def markdown(results: dict[str, Any]) -> str:
    text = table(with_ratios(results["cells"]), COLUMNS)
    if "step_profiles" in results:
        text += "\n\n" + profile_markdown(results["step_profiles"])
    return text


def write(results: dict[str, Any], output: Path) -> None:
    """The JSON and its markdown, each replaced whole: a call killed while writing keeps the
    previous cell's file rather than half of this one's."""
    output.parent.mkdir(parents=True, exist_ok=True)
    for path, text in (
        (output, json.dumps({**results, "cells": with_ratios(results["cells"])}, indent=2) + "\n"),
        (output.with_suffix(".md"), markdown(results) + "\n"),
    ):
        write_whole(path, text)


COLUMNS = {
    "method": "method",
    "variant": "setting",
    "jobs": "jobs",
    "train_images_per_second_per_job": "train img/s per job",
    "train_images_per_second_total": "train img/s, all jobs",
    "vs_float32": "x float32",
    "score_images_per_second_total": "score img/s, all jobs",
}


PROFILE_COLUMNS = {
    "method": "method",
    "operators_per_step": "operators per step",
    "kernels_per_step": "device kernels per step",
    "scalar_reads_per_step": "values read back as numbers per step",
    "syncs_per_step": "host-device syncs per step",
    "wall_ms_per_step": "ms per step",
    "host_ms_outside_operators_per_step": "host ms outside operators per step",
}
OPERATOR_COLUMNS = {
    "name": "operator",
    "calls_per_step": "calls",
    "self_ms_per_step": "self ms",
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = verb_parser(__doc__)
    parser.add_argument("--methods", default="ganomaly,mem_ganomaly", help="comma-separated ids")
    parser.add_argument(
        "--variants", default=",".join(VARIANTS), help="comma-separated speed settings"
    )
    parser.add_argument(
        "--jobs", type=count_list_arg, default="1,14", help="comma-separated process counts"
    )
    parser.add_argument(
        "--channels", type=int, default=3, choices=(1, 3), help="channels of the random images"
    )
    parser.add_argument(
        "--train-steps", type=COUNT_ARG, default=30, help="timed training batches a cell"
    )
    parser.add_argument(
        "--score-batches", type=COUNT_ARG, default=20, help="timed scoring batches a cell"
    )
    parser.add_argument(
        "--profile", action="store_true", help="also profile a training step of each method"
    )
    parser.add_argument(
        "--seconds",
        type=POSITIVE_ARG,
        default=None,
        help="stop at this many seconds (the device call's limit, less its start): a cell still "
        "running is stopped, the rest are listed as not run; every cell measured is written",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=Path("results/speed_matrix.json"),
        help="the matrix as JSON (and markdown beside it)",
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every cell")
    args = parser.parse_args(argv)
    check_list(parser, "--methods", args.methods, method_ids())
    check_list(parser, "--variants", args.variants, VARIANTS)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    deadline = Deadline(args.seconds)
    settings = BenchSettings(
        train_steps=args.train_steps,
        score_batches=args.score_batches,
        overrides=tuple(args.overrides),
    )
    methods = args.methods.split(",")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    results: dict[str, Any] = {
        "device": device_name(device),
        "torch": torch.__version__,
        "settings": {**vars(args), "output": str(args.output)},
        "cells": [],
    }
    if args.profile:  # first: a few seconds a method, and it says where a step's time goes
        results["step_profiles"] = []
        for entry in profiles(methods, settings, args.channels, deadline):
            results["step_profiles"].append(entry)
            write(results, args.output)
    for cell in matrix(
        methods, args.variants.split(","), args.jobs, settings, args.channels, deadline
    ):
        results["cells"].append(cell)
        write(results, args.output)
    print(markdown(results))
    failed = [e for e in results["cells"] + results.get("step_profiles", []) if "error" in e]
    if failed:
        sys.exit(f"{len(failed)} measurements failed or were not run (the table says why)")


if __name__ == "__main__":
    main()
