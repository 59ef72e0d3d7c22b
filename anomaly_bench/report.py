"""`python -m anomaly_bench.report` / `anomaly-bench report`: the tables of a results store.

Without `--table`: one table per (dataset, protocol): rows are normal classes plus their mean,
columns are method configurations, each cell the mean (and std over seeds, when there are
several) of a metric over `ok` rows. With `--table N`: our runs beside the paper's Table N, also
written as markdown, CSV, LaTeX and a per-class PNG, with the learning-curve and example-picture
sections the rows allow; `--curves` draws the curves. `--where KEY=VALUE` narrows the rows
first. `--runs` lists the finished runs instead, one line each with its key (what `predict` and
`pictures` take). The tables themselves are `reporting/tables.py`, imported once the arguments
parse (with pandas, matplotlib and scipy, seconds).
"""

from __future__ import annotations

from pathlib import Path

from anomaly_bench.reporting.paper_tables import TABLES
from anomaly_bench.settings.command_line import verb_parser
from anomaly_bench.store.results import RESULTS_FILE, no_store_message


def main() -> None:
    parser = verb_parser(__doc__)
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="the results store to read"
    )
    parser.add_argument(
        "--metric", default="auroc", help="any numeric row field: auroc, auprc, gmean, ..."
    )
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--table", type=int, choices=TABLES, help="compare with the paper's Table 1, 2, 3 or 4"
    )
    shown.add_argument(
        "--runs",
        action="store_true",
        help="list the finished runs, one line each with its key (what predict and pictures take)",
    )
    parser.add_argument(
        "--output-dir", type=Path, help="where --table writes its files (default: RESULTS/report)"
    )
    parser.add_argument(
        "--wandb-project", help="with --table: also log the comparison to a W&B `report` run"
    )
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="keep only rows whose field or dotted config key equals VALUE (repeatable), e.g. "
        "--where max_epochs=15 --where model.encoder=izi_f",
    )
    parser.add_argument(
        "--curves",
        action="store_true",
        help="with --table: draw AUROC against epoch and training seconds from learning curves",
    )
    args = parser.parse_args()
    if not (args.results_dir / RESULTS_FILE).is_file():
        parser.error(no_store_message(args.results_dir))
    from anomaly_bench.reporting.configurations import parse_where
    from anomaly_bench.reporting.run_list import run_list
    from anomaly_bench.reporting.tables import paper_report, read_rows, report

    try:
        conditions = parse_where(args.where)
        if args.runs:
            print(run_list(read_rows(args.results_dir, conditions)))
            return
        if args.table is None:
            print(report(args.results_dir, args.metric, conditions))
            return
        output_dir = args.output_dir or args.results_dir / "report"
        print(
            paper_report(
                args.results_dir,
                args.table,
                output_dir,
                args.wandb_project,
                conditions,
                args.curves,
            )
        )
    except ValueError as err:
        parser.error(str(err))


if __name__ == "__main__":
    main()
