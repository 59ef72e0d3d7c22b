"""Training speed of each method under each speed setting, one process and several sharing the
device: the figures the GPU defaults are chosen from (docs/gpu_session.md).

    python -m anomaly_bench.benchmarks.speed_matrix --methods ganomaly,mem_ganomaly \
        --variants float32,tf32,bf16,channels_last,cuda_graphs --jobs 1,14 --profile trainer=gpu

Each cell starts `jobs` processes at once, each timing the method's training and scoring as
`make bench` does (`method_speed.measure`, random images of CIFAR-10's shape by default); the
aggregate is the sum of their rates, what a grid of that many jobs gets from the device.
`--profile` adds, per method in float32 and one process, where a training step's time goes
(`step_profile`: operators, kernels and syncs per step, the operators with most self time).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

from anomaly_bench.benchmarks.method_speed import (
    BenchCase,
    BenchSettings,
    measure,
    measure_in_subprocess,
)
from anomaly_bench.benchmarks.step_profile import profile_case
from anomaly_bench.benchmarks.suite import ALL_METHODS, check_list, markdown_table
from anomaly_bench.engine.runtime import device_name

# Each speed setting as the overrides that switch it on; float32 is torch's strict float32.
VARIANTS = {
    "float32": ("callbacks.speedups.tf32=false",),
    "tf32": ("callbacks.speedups.tf32=true",),
    "bf16": ("trainer.precision=bf16-mixed",),
    "channels_last": ("callbacks.speedups.channels_last=true",),
    "cuda_graphs": (
        "callbacks.speedups.compile=true",
        "callbacks.speedups.compile_mode=reduce-overhead",
    ),
}


def measure_together(case: BenchCase, settings: BenchSettings, jobs: int) -> dict[str, Any]:
    """`jobs` processes timing the same case at once: their summed and their mean rates."""
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
        rows = list(pool.map(measure, [case] * jobs, [settings] * jobs))
    train = [row["train_images_per_second"] for row in rows]
    score = [row["score_images_per_second"] for row in rows]
    return {
        "method": case.method,
        "channels": case.channels,
        "jobs": jobs,
        "device": rows[0]["device"],
        "precision": rows[0]["precision"],
        "train_images_per_second_per_job": round(sum(train) / jobs, 1),
        "train_images_per_second_total": round(sum(train), 1),
        "score_images_per_second_total": round(sum(score), 1),
        "peak_gpu_mb_per_job": rows[0].get("peak_gpu_mb"),
    }


def matrix(
    methods: list[str],
    variants: list[str],
    jobs: list[int],
    settings: BenchSettings,
    channels: int,
) -> list[dict[str, Any]]:
    cells = []
    for method in methods:
        for variant in variants:
            case = BenchCase(method, method, channels, VARIANTS[variant])
            for n in jobs:
                print(f"{method}, {variant}, {n} job(s)", file=sys.stderr, flush=True)
                cells.append({"variant": variant, **measure_together(case, settings, n)})
    return cells


def profiles(methods: list[str], settings: BenchSettings, channels: int) -> list[dict[str, Any]]:
    """One step profile per method, float32, each in a fresh process."""
    found = []
    for method in methods:
        print(f"{method}, step profile", file=sys.stderr, flush=True)
        case = BenchCase(method, method, channels, VARIANTS["float32"])
        found.append(measure_in_subprocess(case, settings, profile_case))
    return found


def profile_markdown(found: list[dict[str, Any]]) -> str:
    """Counts per step, then each method's top operators by self time."""
    device_only = ("kernels_per_step", "syncs_per_step")
    counts = [e | {k: "-" if e[k] is None else e[k] for k in device_only} for e in found]
    text = markdown_table(counts, PROFILE_COLUMNS)
    for entry in found:
        text += f"\n\n{entry['method']}, self time on the {entry['self_time_on']} per step:\n\n"
        text += markdown_table(entry["top_operators"], OPERATOR_COLUMNS)
    return text


def with_ratios(cells: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each cell's total training rate against float32's at the same method and jobs."""
    base = {
        (c["method"], c["jobs"]): c["train_images_per_second_total"]
        for c in cells
        if c["variant"] == "float32"
    }
    return [
        {**c, "vs_float32": round(c["train_images_per_second_total"] / base[key], 2)}
        if (key := (c["method"], c["jobs"])) in base
        else c
        for c in cells
    ]


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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="ganomaly,mem_ganomaly")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--jobs", default="1,14", help="comma-separated process counts")
    parser.add_argument("--channels", type=int, default=3, choices=(1, 3))
    parser.add_argument("--train-steps", type=int, default=30)
    parser.add_argument("--score-batches", type=int, default=20)
    parser.add_argument(
        "--profile", action="store_true", help="also profile a training step of each method"
    )
    parser.add_argument("--output", type=Path, default=Path("results/speed_matrix.json"))
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every cell")
    args = parser.parse_args(argv)
    check_list(parser, "--methods", args.methods, ALL_METHODS)
    check_list(parser, "--variants", args.variants, VARIANTS)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    settings = BenchSettings(
        train_steps=args.train_steps,
        score_batches=args.score_batches,
        overrides=tuple(args.overrides),
    )
    cells = with_ratios(
        matrix(
            args.methods.split(","),
            args.variants.split(","),
            [int(n) for n in args.jobs.split(",")],
            settings,
            args.channels,
        )
    )
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    results = {
        "device": device_name(device),
        "torch": torch.__version__,
        "settings": {**vars(args), "output": str(args.output)},
        "cells": cells,
    }
    text = markdown_table(cells, COLUMNS)
    if args.profile:
        results["step_profiles"] = profiles(args.methods.split(","), settings, args.channels)
        text += "\n\n" + profile_markdown(results["step_profiles"])
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(text + "\n")


if __name__ == "__main__":
    main()
