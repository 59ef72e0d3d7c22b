"""`make demo`: several detectors compared on scikit-learn's bundled digits, offline, in minutes.

A small grid (each method at a demo budget, every normal class, paper protocol, seed 0) runs
in this process through the same `train()` as any run, so its rows land in a results store like
any grid's. One line per run says where the grid is and what it found; Lightning's per-run
banners are kept off the console. Then the comparison: the per-class table with its mean row,
mean ranks with the Friedman test and the critical-difference diagram when enough classes are
in, and where the files are.

The grid is engine/demo_grid.py's and the comparison reporting/demo_comparison.py's, imported
once the arguments parse (they load torch, seconds); this is the command line.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from anomaly_bench.settings.checks import COUNT_ARG
from anomaly_bench.settings.command_line import verb_parser
from anomaly_bench.settings.method_facts import demo_budgets, method_ids

# Each method's demo budget on digits: small, stated, and one override away (--epochs).
# GANomaly and Mem_GANomaly need about 10 epochs of digits (about 20 steps) to rank well: at 5
# they rank anomalies below normals; at 10 they reach 0.84-0.99 (classes 2 and 8, measured).
# The budget of a method named with --models whose yaml states no demo_epochs.
DEFAULT_DEMO_EPOCHS = 5
DIGITS_CLASSES = range(10)


def digits_classes(text: str) -> list[int]:
    """An argparse `type`: comma-separated classes of the bundled digits, refused as a whole
    naming what is allowed (before the grid starts, not as a traceback from its first run)."""
    try:
        classes = [int(part) for part in text.split(",")]
    except ValueError:
        classes = None
    if not classes or not set(classes) <= set(DIGITS_CLASSES):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not allowed; allowed: comma-separated digits classes, 0 to 9"
        )
    return classes


def main() -> None:
    parser = verb_parser(__doc__)
    parser.add_argument(
        "--models",
        default=",".join(demo_budgets()),
        help="comma-separated ids (default: the methods whose yaml states demo_epochs)",
    )
    parser.add_argument(
        "--classes",
        type=digits_classes,
        default="0,1,2,3,4,5,6,7,8,9",
        help="comma-separated digits classes",
    )
    parser.add_argument(
        "--results", type=Path, default=Path("results/demo"), help="the demo's results store"
    )
    parser.add_argument(
        "--epochs",
        type=COUNT_ARG,
        help="every method's epochs (default: each method's demo budget)",
    )
    args = parser.parse_args()
    models = args.models.split(",")
    unknown = sorted(set(models) - set(method_ids()))
    if unknown:
        parser.error(
            f"--models {','.join(unknown)} is not allowed; allowed: model ids of conf/model"
        )
    epochs = {m: args.epochs or demo_budgets().get(m, DEFAULT_DEMO_EPOCHS) for m in models}
    budget = ", ".join(f"{m} {e} epoch{'s' if e > 1 else ''}" for m, e in epochs.items())
    from anomaly_bench.engine.demo_grid import quiet, run_grid
    from anomaly_bench.reporting.demo_comparison import comparison

    print(f"demo: {len(models)} methods x {len(args.classes)} digits classes ({budget})")
    quiet()
    started = time.perf_counter()
    run_grid(models, args.classes, args.results, epochs)
    print(f"\n{time.perf_counter() - started:.0f} s for the grid\n")
    print(comparison(args.results))


if __name__ == "__main__":
    main()
