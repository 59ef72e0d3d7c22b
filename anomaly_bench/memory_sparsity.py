"""How sparse a trained memory reads normal vs anomalous images (the Mem_GANomaly mechanism).

`anomaly-bench memory-sparsity [--results-dir results] [--run-key START ...]`: for every finished
MemAE and Mem_GANomaly run of the store (or those whose keys start so), rebuilds the run from its
row and `last.ckpt` as predict does and prints the mean number of non-zero attention weights per
query for the normal and the anomalous test images. Never trains. A run whose checkpoint is not
at hand is listed with the reason, and the exit status is 1.

The work is engine/memory_readout.py's, imported once the arguments parse (it loads torch,
seconds); this is its command line.
"""

from __future__ import annotations

import sys

from anomaly_bench.settings.command_line import add_run_choice, verb_parser


def main(argv: list[str] | None = None) -> int:
    parser = verb_parser(__doc__)
    add_run_choice(parser, "mem_ganomaly_mnist", "every run with a memory")
    args = parser.parse_args(argv)
    from anomaly_bench.engine.memory_readout import sparsity_of_runs

    try:
        read = sparsity_of_runs(args.results_dir, args.run_key, args.runs_dir)
    except (ValueError, FileNotFoundError) as err:
        parser.error(str(err))
    print("| run | memory size | non-zero weights, normal | non-zero weights, anomalous |")
    print("|---|---|---|---|")
    for key, result in read.items():
        if isinstance(result, str):
            print(f"{key}: not read: {result}", file=sys.stderr)
            continue
        print(
            f"| {key} | {result['memory_size']:.0f} | {result['normal']:.2f} "
            f"| {result['anomalous']:.2f} |"
        )
    return 1 if any(isinstance(result, str) for result in read.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
