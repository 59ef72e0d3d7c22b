"""`anomaly-bench results-page` / `make results-page`: the project's reference results,
`docs/results/`, regenerated from the rows committed there; trains nothing. A cell is shown only
at its method's yaml defaults, every column states its budget, device and commit, and a missing
cell reads `pending`.

The work is reporting/results_page.py's, imported once the arguments parse (it loads pandas and
matplotlib, seconds); this is its command line.
"""

from __future__ import annotations

from pathlib import Path

from anomaly_bench import REFERENCE_RESULTS
from anomaly_bench.settings.command_line import verb_parser


def main(argv: list[str] | None = None) -> None:
    parser = verb_parser(__doc__)
    parser.add_argument(
        "--page-dir",
        type=Path,
        default=REFERENCE_RESULTS,
        help="the committed rows, and where the pages go",
    )
    args = parser.parse_args(argv)
    from anomaly_bench.reporting.results_page import write_pages

    for path in write_pages(args.page_dir):
        print(f"written: {path}")


if __name__ == "__main__":
    main()
