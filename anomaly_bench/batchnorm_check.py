"""How much a finished run's AUROC moves when its test split is scored as the reference GANomaly
code scores it: BatchNorm on each batch's own statistics, batches of one image, or of 64
shuffled or with the normal images first.

`anomaly-bench batchnorm-check [--results-dir results] [--run-key START ...]`: for every finished
run of the store with BatchNorm layers (or those whose keys start so), rebuilds the run from its
row and `last.ckpt` as predict does and prints the row's AUROC beside four readings of the same
weights: running statistics (our test loop; it equals the row's), batch statistics with one image
a batch (what GANomaly's first author says its figures used), in shuffled batches of 64 (the
released code's MNIST test loader), and in batches of 64 with the normal images first (its
CIFAR-10 loader, where nearly every batch holds one label). Never trains. A run whose
checkpoint is not at hand is listed with the reason, and the exit status is 1.

The work is engine/batch_statistics.py's, imported once the arguments parse (it loads torch,
seconds); this is its command line.
"""

from __future__ import annotations

import sys

from anomaly_bench.settings.command_line import add_run_choice, verb_parser

HEADER = (
    "| run | row's AUROC | running statistics (ours) | batch statistics, one image a batch "
    "| batch statistics, shuffled batches of 64 | batch statistics, normal images first, batches "
    "of 64 |"
)


def main(argv: list[str] | None = None) -> int:
    parser = verb_parser(__doc__)
    add_run_choice(parser, "ganomaly_cifar10", "every run with BatchNorm")
    parser.add_argument("--device", help="cpu, cuda or cuda:N (default: the GPU if any)")
    args = parser.parse_args(argv)
    from anomaly_bench.engine.batch_statistics import READINGS, readings_of_runs

    try:
        read, without = readings_of_runs(args.results_dir, args.run_key, args.runs_dir, args.device)
    except (ValueError, FileNotFoundError) as err:
        parser.error(str(err))
    print(HEADER)
    print("|---|---|---|---|---|---|")
    for key, result in read.items():
        if isinstance(result, str):
            print(f"{key}: not read: {result}", file=sys.stderr)
            continue
        readings = " | ".join(f"{result[name]:.4f}" for name in READINGS)
        print(f"| {key} | {result['row']:.4f} | {readings} |")
    if without:
        print(f"left out (no BatchNorm layer): {', '.join(without)}", file=sys.stderr)
    return 1 if any(isinstance(result, str) for result in read.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
