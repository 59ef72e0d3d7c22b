"""The speed benchmarks of `make bench` / `anomaly-bench bench` (its command line and what it
measures: anomaly_bench/bench.py): the figures gathered, and their markdown."""

from __future__ import annotations

import argparse
import platform
import sys
from typing import Any

import torch

from anomaly_bench.benchmarks.grid_estimate import PAPER_GRIDS, estimate_table
from anomaly_bench.benchmarks.input_path import input_path_speed
from anomaly_bench.benchmarks.latent_search import latent_search_speed
from anomaly_bench.benchmarks.method_speed import (
    DATALOADER_CASE,
    measure_in_subprocess,
    method_cases,
)
from anomaly_bench.benchmarks.reference_scoring import reference_scoring_speed
from anomaly_bench.engine.runtime import device_name
from anomaly_bench.settings.bench_settings import BenchSettings


def markdown_table(rows: list[dict[str, Any]], columns: dict[str, str]) -> str:
    lines = [
        "| " + " | ".join(columns.values()) + " |",
        "|" + "---|" * len(columns),
    ]
    lines += ["| " + " | ".join(str(row[key]) for key in columns) + " |" for row in rows]
    return "\n".join(lines)


def method_notes(row: dict[str, Any]) -> str:
    if row["score_search_steps_timed"] is None:
        return ""
    return (
        f"score: {row['score_search_steps_configured']}-step search, scaled from "
        f"{row['score_search_steps_timed']} timed steps"
    )


def input_path_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GANomaly's training rate on the device path over the DataLoader path, per channel count."""
    by_label = {(r["label"], r["channels"]): r for r in rows}
    ratios = []
    for channels in sorted({r["channels"] for r in rows}):
        fast, ordinary = (
            by_label.get(("ganomaly", channels)),
            by_label.get((DATALOADER_CASE, channels)),
        )
        if fast and ordinary:
            ratio = fast["train_images_per_second"] / ordinary["train_images_per_second"]
            ratios.append(
                {"channels": channels, "ganomaly_device_over_dataloader": round(ratio, 2)}
            )
    return ratios


def scoring_against_reference(
    rows: list[dict[str, Any]], reference: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """GANomaly's scoring rate as a run scores (the method table's) over the reference loop's."""
    ours = {r["channels"]: r for r in rows if r["label"] == "ganomaly"}
    compared = []
    for loop in reference:
        run = ours.get(loop["channels"])
        if run is None:
            continue
        rate = run["score_images_per_second"]
        compared.append(
            {
                **loop,
                "ours_images_per_second": rate,
                "ours_batch_size": run["eval_batch_size"],
                "ratio": round(rate / loop["reference_loop_images_per_second"], 2),
            }
        )
    return compared


def settings_line(settings: dict[str, Any]) -> str:
    return (
        f"Training: {settings['train_warmup']} warm-up + {settings['train_steps']} timed batches; "
        f"scoring: {settings['score_warmup']} + {settings['score_batches']} batches; "
        f"latent-search scores timed over at most {settings['max_search_steps']} steps; "
        f"overrides: {' '.join(settings['overrides']) or 'none'}."
    )


def report(results: dict[str, Any]) -> str:
    methods = [{**row, "notes": method_notes(row)} for row in results["methods"]]
    sections = [
        f"# anomaly-bench speed on {results['device']} ({results['cpu']}, "
        f"{results['threads']} threads, torch {results['torch']})",
        settings_line(results["settings"]),
        "## Methods",
        markdown_table(
            methods,
            {
                "label": "method",
                "channels": "channels",
                "batch_size": "batch",
                "train_images_per_second": "train img/s",
                "score_images_per_second": "score img/s",
                "peak_rss_mb": "peak RSS MB",
                "peak_gpu_mb": "peak GPU MB",
                "notes": "notes",
            },
        ),
        "## Input path",
        markdown_table(
            results["input_path"],
            {
                "channels": "channels",
                "images": "images",
                "batch_size": "batch",
                "device_path_images_per_second": "device path img/s",
                "dataloader_path_images_per_second": "DataLoader img/s",
                "speedup": "speedup",
            },
        ),
        "GANomaly training, device path over DataLoader path: "
        + (
            ", ".join(
                f"{r['channels']} ch {r['ganomaly_device_over_dataloader']}x"
                for r in results["input_path_training"]
            )
            or "not measured"
        ),
        "## AnoGAN latent search",
        markdown_table(
            results["latent_search"],
            {
                "channels": "channels",
                "images": "images",
                "steps": "steps",
                "batched_images_per_second": "batched img/s",
                "one_at_a_time_images_per_second": "one at a time img/s",
                "speedup": "speedup",
            },
        ),
        "## GANomaly scoring against its reference code's test loop",
        markdown_table(
            results["reference_scoring"],
            {
                "channels": "channels",
                "ours_batch_size": "our batch",
                "ours_images_per_second": "ours img/s",
                "batch_size": "reference batch",
                "reference_loop_images_per_second": "reference loop img/s",
                "ratio": "ours / reference",
            },
        )
        if results["reference_scoring"]
        else "not measured (GANomaly not among --methods)",
        "## Estimated grid time (one job at a time, paper protocol, lower bound)",
        markdown_table(
            [
                {**e, "not_measured": ", ".join(e["not_measured"]) or "-"}
                for e in results["grid_estimates"]
            ],
            {
                "table": "table",
                "dataset": "dataset",
                "runs": "runs",
                "grid_hours": "hours",
                "not_measured": "not measured",
            },
        ),
        markdown_table(
            [{"table": e["table"], **m} for e in results["grid_estimates"] for m in e["methods"]],
            {"table": "table", "method": "method", "epochs": "epochs", "run_hours": "hours/run"},
        ),
    ]
    return "\n\n".join(sections) + "\n"


def run(args: argparse.Namespace) -> dict[str, Any]:
    settings = BenchSettings(
        args.train_warmup,
        args.train_steps,
        args.score_warmup,
        args.score_batches,
        args.max_search_steps,
        tuple(args.overrides),
    )
    channels = [int(c) for c in args.channels.split(",")]
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    rows = []
    for case in method_cases(args.methods.split(","), channels):
        print(f"measuring {case.label}, {case.channels} channel(s)", file=sys.stderr, flush=True)
        rows.append(measure_in_subprocess(case, settings))
    estimates = [estimate_table(table, rows, settings) for table in PAPER_GRIDS]
    return {
        "device": device_name(device),
        "cpu": platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "settings": vars(args) | {"output": str(args.output)},
        "methods": rows,
        "input_path": [
            input_path_speed(c, args.input_images, args.input_batch_size, device) for c in channels
        ],
        "input_path_training": input_path_ratios(rows),
        "latent_search": [
            latent_search_speed(c, args.search_images, args.search_steps, device) for c in channels
        ],
        "grid_estimates": [e for e in estimates if e["channels"] in channels],
        "reference_scoring": scoring_against_reference(
            rows,
            [reference_scoring_speed(c, args.reference_images, device) for c in channels]
            if "ganomaly" in args.methods.split(",")
            else [],
        ),
    }
