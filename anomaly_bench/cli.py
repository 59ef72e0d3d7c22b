"""`anomaly-bench VERB [ARGS]`: the one command, with a verb for each thing people do.

Each verb hands its arguments to the module that `python -m` would run, so `anomaly-bench train
model=memae` and `python -m anomaly_bench.train model=memae` are the same run. Only the chosen
verb's module is imported: `--help` answers at once.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys

from anomaly_bench import __version__

# verb -> (the module whose main() it runs, what it does in one line)
COMMANDS = {
    "train": (
        "anomaly_bench.train",
        "train and score one run, or a grid with -m (Hydra overrides: model=memae ...)",
    ),
    "demo": ("anomaly_bench.demo", "five methods on the bundled digits, every class, in minutes"),
    "predict": (
        "anomaly_bench.predict",
        "score image files, folders or globs with a finished run (a CSV line per image)",
    ),
    "report": (
        "anomaly_bench.report",
        "the tables of a results store; --table N sets them beside the paper's Table N",
    ),
    "results-page": (
        "anomaly_bench.results_page",
        "regenerate docs/results/ from its committed rows (trains nothing)",
    ),
    "pictures": (
        "anomaly_bench.pictures",
        "draw the example pictures of finished runs that have none (the report shows them)",
    ),
    "bench": (
        "anomaly_bench.bench",
        "speed of every method, the input paths, the latent search and the grids' hours",
    ),
    "gpu-session": (
        "anomaly_bench.gpu_session",
        "the GPU queue: pack the data for the device calls, check it, run to a deadline",
    ),
    "memory-sparsity": (
        "anomaly_bench.memory_sparsity",
        "memory slots a trained MemAE / Mem_GANomaly reads, normal vs anomalous",
    ),
    "batchnorm-check": (
        "anomaly_bench.batchnorm_check",
        "a run's AUROC with BatchNorm on each test batch's statistics, as GANomaly's code",
    ),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    verbs = "\n".join(f"  {verb:<{width}}  {text}" for verb, (_, text) in COMMANDS.items())
    return (
        "usage: anomaly-bench VERB [ARGS ...]\n\n"
        "GAN-based image anomaly detectors trained and compared under one protocol.\n\n"
        f"verbs:\n{verbs}\n\n"
        "`anomaly-bench VERB --help` says more about one verb; `--version` prints the version.\n"
        "Example: anomaly-bench train model=ganomaly data=mnist data.normal_class=3"
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or args[0] in ("-h", "--help"):
        print(usage())
        return 0 if args else 2
    if args[0] == "--version":
        print(f"anomaly-bench {__version__}")
        return 0
    verb, rest = args[0], args[1:]
    if verb not in COMMANDS:
        print(
            f"anomaly-bench: unknown verb {verb!r}; allowed: {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 2
    module = importlib.import_module(COMMANDS[verb][0])
    sys.argv = [f"anomaly-bench {verb}", *rest]
    try:
        result = module.main()
    except BrokenPipeError:
        return reader_gone()
    return result if isinstance(result, int) and not isinstance(result, bool) else 0


def reader_gone() -> int:
    """`anomaly-bench report --runs | head`: the reader closed the pipe, which is no error of
    ours. Python's documented way out: what is still buffered goes nowhere, no traceback, and the
    status a shell gives a command stopped by SIGPIPE."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 128 + signal.SIGPIPE


if __name__ == "__main__":
    sys.exit(main())
