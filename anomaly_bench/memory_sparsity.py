"""How sparse a trained memory reads normal vs anomalous images (the Mem_GANomaly mechanism).

`python -m anomaly_bench.memory_sparsity RUN_DIR`: rebuilds the run's data from its Hydra config,
loads the run's `last.ckpt` (`logs/checkpoints/<run key>/`, found from that config, relative to
where training ran) and prints the mean number of non-zero attention weights per query
for the normal and the anomalous test images. Never trains.

The work is engine/memory_readout.py's, imported once the arguments parse (it loads torch,
seconds); this is its command line.
"""

from __future__ import annotations

from pathlib import Path

from anomaly_bench.settings.command_line import verb_parser


def main() -> None:
    parser = verb_parser(__doc__)
    parser.add_argument("run_dir", type=Path, nargs="+", help="a run's output folder (logs/...)")
    args = parser.parse_args()
    from anomaly_bench.engine.memory_readout import load_run, sparsity_by_label

    print("| run | memory size | non-zero weights, normal | non-zero weights, anomalous |")
    print("|---|---|---|---|")
    for run_dir in args.run_dir:
        result = sparsity_by_label(*load_run(run_dir))
        print(
            f"| {run_dir.name} | {result['memory_size']:.0f} | {result['normal']:.2f} "
            f"| {result['anomalous']:.2f} |"
        )


if __name__ == "__main__":
    main()
