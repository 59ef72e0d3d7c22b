"""`python -m anomaly_bench.pictures` / `anomaly-bench pictures`: draw the example pictures of
finished runs that have none; the report shows them.

The work is engine/run_pictures.py's, imported once the arguments parse (it loads torch,
seconds); this is its command line."""

from __future__ import annotations

from anomaly_bench.settings.command_line import add_run_choice, verb_parser


def main(argv: list[str] | None = None) -> None:
    parser = verb_parser(__doc__)
    add_run_choice(parser, "ganomaly_mnist", "every run")
    parser.add_argument("--redraw", action="store_true", help="also runs that have pictures")
    args = parser.parse_args(argv)
    from anomaly_bench.engine.run_pictures import draw_missing_pictures

    try:
        done = draw_missing_pictures(args.results_dir, args.run_key, args.redraw, args.runs_dir)
    except (ValueError, FileNotFoundError) as err:
        parser.error(str(err))
    for key, what in done.items():
        print(f"{key}: {what}")


if __name__ == "__main__":
    main()
