"""How far a cell's test AUROC moves late in training: what one last epoch is a draw from.

A cell's headline is its last epoch's AUROC. Where a method's curve swings from epoch to epoch
(DAGMM's moves by up to 0.47 between points four epochs apart), that figure is one draw from a wide
range, and a paper's figure that differs from it by 0.2 can still be what a run of the method
gives at its last epoch. This section puts the range beside the paper: per cell, the curve's
points in the second half of the run's epochs (median, lowest, highest) and whether the paper's
figure lies inside them. The points are those of the curve (on its subsample of the test split
where the row has one), so they differ from whole-split figures by the subsample's error.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from anomaly_bench.reporting.comparison import class_label, markdown_grid, table_rows
from anomaly_bench.reporting.configurations import columns
from anomaly_bench.reporting.curves import curve_points, offers_a_choice
from anomaly_bench.reporting.paper_tables import PaperTable
from anomaly_bench.settings.protocols import row_class


@dataclass(frozen=True)
class LateRange:
    """The AUROC of a cell's curve points past half of its runs' epochs (seeds pooled)."""

    median: float
    low: float
    high: float

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high


def late_points(row: Mapping) -> list[float]:
    """AUROC of the row's curve points whose epoch is past half of the run's epochs."""
    if not offers_a_choice(row):  # a single fit's one point is its final test, not a range
        return []
    points = curve_points(row)
    half = (row.get("epochs") or points[-1]["epoch"]) / 2
    return [p["auroc"] for p in points if p["epoch"] > half]


def late_range(rows: Iterable[Mapping]) -> LateRange | None:
    """None where no row has a point in its second half."""
    values = [value for row in rows for value in late_points(row)]
    if not values:
        return None
    return LateRange(statistics.median(values), min(values), max(values))


def _cell(spread: LateRange | None, paper: float | None) -> str:
    if spread is None:
        return ""
    text = f"{spread.median:.4f} [{spread.low:.4f}, {spread.high:.4f}]"
    if paper is not None and spread.holds(paper):
        text += " (paper inside)"
    return text


def _summary(spreads: list[tuple[LateRange, float | None]]) -> str:
    compared = [(spread, paper) for spread, paper in spreads if paper is not None]
    inside = sum(spread.holds(paper) for spread, paper in compared)
    width = statistics.median(spread.high - spread.low for spread, _ in spreads)
    return f"paper inside: {inside} of {len(compared)}; median width {width:.4f}"


def late_spread_markdown(rows: Iterable[dict], table: PaperTable) -> str | None:
    """Per class and column with a curve: median [lowest, highest] of the second half's points,
    marked where the paper's cell lies inside; a last row counts those cells and gives the
    column's median range width. None when no row of the table has a curve."""
    published = table.values.get("auroc", {})
    by_column = {
        column: members
        for column, members in columns(table_rows(rows, table)).items()
        if any(late_points(row) for row in members)
    }
    if not by_column:
        return None
    body: list[list[str]] = []
    summaries: dict[str, list[tuple[LateRange, float | None]]] = {c.label: [] for c in by_column}
    for normal_class in range(len(table.class_labels)):
        cells = []
        for column, members in by_column.items():
            spread = late_range(r for r in members if row_class(r) == normal_class)
            paper = published[column.method][normal_class] if column.method in published else None
            if spread is not None:
                summaries[column.label].append((spread, paper))
            cells.append(_cell(spread, paper))
        if any(cells):
            body.append([class_label(table, normal_class), *cells])
    body.append(["*over the classes*", *(_summary(s) for s in summaries.values())])
    intro = (
        "#### How far the AUROC moves in the second half of training\n\n"
        "A last epoch's AUROC is one draw from what the method gives late in its training. Each "
        "cell: the median [lowest, highest] AUROC of the learning curve's points past half of "
        "the run's epochs (seeds pooled; on the curve's subsample of the test split, so within "
        "its error of whole-split figures), 'paper inside' where the paper's cell lies inside that "
        "range. A wide range makes one seed's last epoch a weak estimate, and a paper's figure "
        "inside it one that a run of the method can give at its last epoch.\n\n"
    )
    return intro + "\n".join(markdown_grid(["", *(c.label for c in by_column)], body))
