"""`python -m anomaly_bench.pictures` / `anomaly-bench pictures`: draw the example pictures of
finished runs that have none (engine/run_pictures.py); the report shows them."""

from __future__ import annotations

import argparse
from pathlib import Path

from anomaly_bench.engine.run_pictures import draw_missing_pictures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0].strip("`"))
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument(
        "--run-key", action="append", help="only this run (repeat for more; default: every run)"
    )
    parser.add_argument("--redraw", action="store_true", help="also runs that have pictures")
    parser.add_argument(
        "--runs-dir",
        type=Path,
        default=Path("."),
        help="the folder the runs trained in: a row's relative checkpoint path starts there",
    )
    args = parser.parse_args(argv)
    try:
        done = draw_missing_pictures(args.results_dir, args.run_key, args.redraw, args.runs_dir)
    except (ValueError, FileNotFoundError) as err:
        parser.error(str(err))
    for key, what in done.items():
        print(f"{key}: {what}")


if __name__ == "__main__":
    main()
