"""An earlier grid on fewer training images set against the full-data cells, method by method.

Table 3's first grid read one of CIFAR-10's five training batches, and every generative column
fell short of the paper there. Whether the full data closes that shortfall is the question the
full-data grid answers (issue 27), so the page says it per method, on the classes both grids
have, instead of leaving a reader to compare two tables by eye.
"""

from __future__ import annotations

import statistics

from anomaly_bench.reporting.comparison import Comparison, class_row_labels, markdown_grid
from anomaly_bench.reporting.paper_tables import PaperTable

# The columns after the first three (method, classes, the smaller grid's mean).
HEADER_TAIL = [
    "full data",
    "full - fewer",
    "classes up",
    "paper",
    "fewer - paper",
    "full - paper",
    "shortfall closed",
]


def _shortfall_closed(fewer: float, full: float, paper: float, gaps: list[float]) -> str:
    """How much of the smaller grid's distance below the paper the full data made up (100 %:
    all of it; more: past the paper; negative: further below).

    A mean gap inside the standard error of the per-class gaps (`gaps`: fewer - paper, one a
    class) is no shortfall: a share of it would divide by noise (DAGMM's nine classes sat 0.0014
    below the paper and printed "1650 %")."""
    if fewer >= paper:
        return "none to close"
    if len(gaps) > 1:
        standard_error = statistics.stdev(gaps) / len(gaps) ** 0.5
        if paper - fewer <= standard_error:
            return f"none to close (gap within its SE {standard_error:.4f})"
    return f"{100 * (full - fewer) / (paper - fewer):.0f} %"


def share_rows(full: Comparison, fewer: Comparison, table: PaperTable) -> list[list[str]]:
    """A row per method that both grids have, over the classes where both have a cell: the two
    means, how many classes rose, each against the paper's mean on the same classes."""
    full_columns = {full.method_of[c]: c for c in full.columns}
    rows = []
    for fewer_column in fewer.columns:
        method = fewer.method_of[fewer_column]
        full_column = full_columns.get(method)
        if full_column is None:
            continue
        pairs = [
            (fewer.cells[(label, fewer_column)], full.cells[(label, full_column)])
            for label in class_row_labels(fewer, table)
        ]
        pairs = [(a, b) for a, b in pairs if a.ours is not None and b.ours is not None]
        if not pairs:
            continue
        small = statistics.fmean(a.ours for a, _ in pairs)
        large = statistics.fmean(b.ours for _, b in pairs)
        up = sum(b.ours > a.ours for a, b in pairs)
        row = [method, str(len(pairs)), f"{small:.4f}", f"{large:.4f}", f"{large - small:+.4f}"]
        row.append(f"{up} of {len(pairs)}")
        if all(a.paper is not None for a, _ in pairs):
            paper = statistics.fmean(a.paper for a, _ in pairs)
            row += [f"{paper:.4f}", f"{small - paper:+.4f}", f"{large - paper:+.4f}"]
            gaps = [a.ours - a.paper for a, _ in pairs]
            row.append(_shortfall_closed(small, large, paper, gaps))
        else:
            row += ["", "", "", ""]
        rows.append(row)
    return rows


def share_markdown(
    full: Comparison, fewer: Comparison, table: PaperTable, fewer_label: str
) -> str | None:
    """The section's table with its reading; None while no method has cells in both grids."""
    rows = share_rows(full, fewer, table)
    if not rows:
        return None
    intro = (
        f"### Against the full-data cells\n\nPer method, on the classes both grids have: the "
        f"mean AUROC on {fewer_label} and on the full data (each cell its seeds' mean), how many "
        "classes rose, and both against the paper's mean on the same classes; *shortfall "
        "closed* is the share of the smaller grid's distance below the paper that the full data "
        "made up (100 %: all of it; negative: it fell further), *none to close* where the smaller "
        "grid was at or above the paper, or below it by less than the standard error of its "
        "per-class gaps to the paper (a share of that gap would be a share of noise).\n\n"
    )
    return intro + "\n".join(markdown_grid(["method", "classes", fewer_label, *HEADER_TAIL], rows))
