"""The speed benchmarks of `make bench`: each method's images/s and memory, the input paths,
the latent search, and the paper grids' hours on this machine.

Timings live here, never in the test suite. `anomaly-bench bench [options] [HYDRA_OVERRIDES
...]` (`make bench`) measures, on this machine's device (the GPU when there is one):
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
from pathlib import Path

from anomaly_bench.settings.bench_settings import BenchSettings
from anomaly_bench.settings.checks import COUNT_ARG, NATURAL_ARG, check_list
from anomaly_bench.settings.command_line import verb_parser
from anomaly_bench.settings.method_facts import method_ids
from anomaly_bench.settings.whole_files import check_target, write_whole

DEFAULTS = BenchSettings()

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
    try:  # the figures take minutes: where they go is checked first
        check_target("--output", args.output)
    except ValueError as err:
        parser.error(str(err))
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    from anomaly_bench.benchmarks.suite import report, run

    results = run(args)
    text = report(results)
    print(text)
    for path, content in (
        (args.output, json.dumps(results, indent=2) + "\n"),
        (args.output.with_suffix(".md"), text),
    ):
        write_whole(path, content)
    print(f"written to {args.output} and {args.output.with_suffix('.md')}")


if __name__ == "__main__":
    main()
