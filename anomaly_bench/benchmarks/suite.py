"""The speed benchmarks of `make bench`: each method's images/s and memory, the input paths,
the latent search, and the paper grids' hours on this machine.

Timings live here, never in the test suite. `python -m anomaly_bench.bench [options]
[HYDRA_OVERRIDES ...]` measures, on this machine's device (the GPU when there is one):
- every method's training and scoring images/s and peak memory as a run trains it (its own
  config, Lightning loop included), on random 32x32 images with 1 and 3 channels, timed after
  warm-up batches, each method in a fresh process; two-stage methods also in their second stage,
  and GANomaly also through the DataLoader input path;
- each input path alone (one shuffled epoch, no model);
- AnoGAN's latent search, the batch at once vs one image at a time;
- GANomaly's scoring rate beside its reference code's test loop on the same networks;
- the paper's Table 1-3 grids' hours from those rates, one job at a time.
Overrides apply to every method (e.g. `trainer.precision=bf16-mixed callbacks.speedups.compile=
true`). It prints markdown and writes it (`.md`) beside the JSON (`--output`).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import torch

from anomaly_bench.benchmarks.grid_estimate import PAPER_GRIDS, estimate_table
from anomaly_bench.benchmarks.input_path import input_path_speed
from anomaly_bench.benchmarks.latent_search import latent_search_speed
from anomaly_bench.benchmarks.method_speed import (
    DATALOADER_CASE,
    BenchSettings,
    measure_in_subprocess,
    method_cases,
)
from anomaly_bench.benchmarks.reference_scoring import reference_scoring_speed
from anomaly_bench.engine.runtime import device_name
from anomaly_bench.settings.checks import COUNT_ARG, NATURAL_ARG
from anomaly_bench.settings.command_line import verb_parser
from anomaly_bench.settings.method_facts import method_ids

DEFAULTS = BenchSettings()


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


# The suite's sizes: option -> (what it allows, default, what it counts). Warm-ups may be 0.
COUNT_OPTIONS = {
    "--train-warmup": (NATURAL_ARG, DEFAULTS.train_warmup, "untimed training batches"),
    "--train-steps": (COUNT_ARG, DEFAULTS.train_steps, "timed training batches"),
    "--score-warmup": (NATURAL_ARG, DEFAULTS.score_warmup, "untimed scoring batches"),
    "--score-batches": (COUNT_ARG, DEFAULTS.score_batches, "timed scoring batches"),
    "--max-search-steps": (
        COUNT_ARG,
        DEFAULTS.max_search_steps,
        "latent-search scores: time this many steps and scale to the configured count",
    ),
    "--input-images": (COUNT_ARG, 6000, "input-path epoch size"),
    "--input-batch-size": (COUNT_ARG, 64, "input-path batch"),
    "--search-images": (COUNT_ARG, 64, "latent-search images"),
    "--search-steps": (COUNT_ARG, 20, "latent-search steps"),
    "--reference-images": (COUNT_ARG, 2048, "images of the reference scoring loop"),
}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = verb_parser(__doc__)
    parser.add_argument("--methods", default=",".join(method_ids()), help="comma-separated ids")
    parser.add_argument("--channels", default="1,3", help="comma-separated channel counts")
    for flag, (kind, default, text) in COUNT_OPTIONS.items():
        parser.add_argument(flag, type=kind, default=default, help=text)
    parser.add_argument(
        "--output", type=Path, default=Path("results/bench.json"), help="the figures as JSON"
    )
    parser.add_argument("overrides", nargs="*", help="Hydra overrides for every method")
    args = parser.parse_args(argv)
    check_list(parser, "--methods", args.methods, method_ids())
    check_list(parser, "--channels", args.channels, ("1", "3"))
    return args


def check_list(
    parser: argparse.ArgumentParser, option: str, value: str, allowed: Iterable[str]
) -> None:
    """Refuse a comma-separated option naming anything outside `allowed`, naming both."""
    allowed = list(allowed)
    unknown = sorted(set(value.split(",")) - set(allowed))
    if unknown:
        parser.error(f"{option}: {', '.join(unknown)} not allowed; allowed: {', '.join(allowed)}")


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


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results = run(args)
    text = report(results)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(text)
    print(f"written to {args.output} and {args.output.with_suffix('.md')}")
