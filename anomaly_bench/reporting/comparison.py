"""Our results beside a published table: per cell `ours (paper, delta)`, as markdown, CSV and LaTeX.

Ours is the mean (and std over seeds) of `ok` rows of the table's dataset and protocol and of one
configuration (`configurations.py`): a method run under two configurations gets two columns, each
beside the paper's value. A cell with no run is blank, never zero. Means over classes are taken
over the classes that have runs, and the paper's mean beside them over the same classes, so a
partial grid (`CLASSES=0,1`) is still compared like with like; the row says which classes it
covers.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from anomaly_bench.reporting.configurations import Column, columns
from anomaly_bench.reporting.paper_tables import PaperTable
from anomaly_bench.settings.protocols import row_class
from anomaly_bench.store.results import latest_ok_rows

# Row fields that say how a number was chosen; the report lists the values it found.
CHOICE_FLAGS = ("protocol", "threshold_source", "select_epoch_on_test")
# Table 4's rates at a threshold from held-out normals, shown beside the test-set Youden ones.
HELD_OUT_RATES = ("val_gmean", "val_false_alarm_rate", "val_miss_rate")


@dataclass(frozen=True)
class Cell:
    """Ours (mean, std over seeds or None, number of seeds) and the paper's value, either absent;
    `warned` when a run of the cell ended with a warning (a collapsed memory)."""

    ours: float | None = None
    std: float | None = None
    seeds: int = 0
    paper: float | None = None
    warned: bool = False

    @property
    def delta(self) -> float | None:
        return None if self.ours is None or self.paper is None else self.ours - self.paper


@dataclass(frozen=True)
class Comparison:
    """A grid of cells: `rows` (labels) x `columns` (one per method configuration), the method of
    each column, and what the rows' choice flags were."""

    title: str
    rows: list[str]
    columns: list[str]
    cells: dict[tuple[str, str], Cell]
    flags: dict[str, list[str]]
    method_of: dict[str, str]


def class_row_labels(comparison: Comparison, table: PaperTable) -> list[str]:
    """The rows of a per-class comparison that are classes (not its mean row)."""
    return comparison.rows[: len(table.class_labels)]


def table_rows(rows: Iterable[dict], table: PaperTable) -> list[dict]:
    """The table's dataset's and protocol's rows among `latest_ok_rows`."""
    return [
        row
        for row in latest_ok_rows(rows)
        if row.get("dataset") == table.dataset and row.get("protocol") == table.protocol
    ]


def is_number(value: object) -> bool:
    """A finite int or float (not a boolean): what a table may average."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def values_by_class(rows: Iterable[Mapping], metric: str) -> dict[tuple[int, str], list[float]]:
    """{(the row's class, column label): the metric of every row (one per seed)}; rows without it
    as a finite number skipped. A column is one configuration of one method, so only seeds are
    averaged.

    Rows are taken as given: filter them (ok, dataset, protocol) first.
    """
    values: dict[tuple[int, str], list[float]] = defaultdict(list)
    for column, members in columns(rows).items():
        for row in members:
            value = row.get(metric)
            if is_number(value):
                values[(row_class(row), column.label)].append(value)
    return dict(values)


def warned_cells(rows: Iterable[Mapping]) -> set[tuple[int, str]]:
    """(the row's class, column label) of every cell with a run whose row carries `warnings`."""
    return {
        (row_class(row), column.label)
        for column, members in columns(rows).items()
        for row in members
        if row.get("warnings")
    }


def summarise(values: list[float]) -> tuple[float, float | None]:
    """Mean, and the sample std over seeds when there is more than one."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def mean_over_classes(
    values: dict[tuple[int, str], list[float]], column: str, classes: list[int]
) -> float | None:
    """The mean of the column's per-class means; None unless every class has a run."""
    if not classes or not all(values.get((c, column)) for c in classes):
        return None
    return statistics.fmean(statistics.fmean(values[(c, column)]) for c in classes)


def _flags(rows: list[dict]) -> dict[str, list[str]]:
    return {flag: sorted({str(row.get(flag)) for row in rows}) for flag in CHOICE_FLAGS}


def table_columns(table: PaperTable, rows: list[dict]) -> list[Column]:
    """The paper's methods in its order, each with every configuration we ran of it (a bare
    column where we ran none, so the paper's value still shows), then other methods we ran."""
    ours = list(columns(rows))
    ordered = []
    for method in table.paper_names:
        mine = [c for c in ours if c.method == method]
        ordered += mine or [Column(method, method, "")]
    return ordered + [c for c in ours if c.method not in table.paper_names]


def class_label(table: PaperTable, normal_class: int) -> str:
    name = table.class_labels[normal_class]
    return str(normal_class) if name == str(normal_class) else f"{normal_class} ({name})"


def per_class_comparison(rows: Iterable[dict], table: PaperTable, metric: str) -> Comparison:
    """Tables 1-3: one row per normal class and a mean row, one column per configuration."""
    kept = table_rows(rows, table)
    values = values_by_class(kept, metric)
    warned = warned_cells(kept)
    cols = table_columns(table, kept)
    published = table.values.get(metric, {})
    run_classes = sorted({c for c, _ in values})
    cells: dict[tuple[str, str], Cell] = {}
    labels = [class_label(table, c) for c in range(len(table.class_labels))]
    for normal_class, label in enumerate(labels):
        for column in cols:
            paper = published[column.method][normal_class] if column.method in published else None
            found = values.get((normal_class, column.label), [])
            mean, std = summarise(found) if found else (None, None)
            flagged = (normal_class, column.label) in warned
            cells[(label, column.label)] = Cell(mean, std, len(found), paper, flagged)
    mean_label = (
        "mean"
        if len(run_classes) == len(table.class_labels)
        else ("mean of classes " + ",".join(map(str, run_classes)))
    )
    for column in cols:
        paper = (
            statistics.fmean(published[column.method][c] for c in run_classes)
            if column.method in published and run_classes
            else None
        )
        ours = mean_over_classes(values, column.label, run_classes)
        cells[(mean_label, column.label)] = Cell(ours, None, 0, paper)
    return Comparison(
        table.title,
        [*labels, mean_label],
        [c.label for c in cols],
        cells,
        _flags(kept),
        {c.label: c.method for c in cols},
    )


def rates_comparison(rows: Iterable[dict], table: PaperTable) -> Comparison:
    """Table 4: one row per rate, the mean over the classes run; the paper's is over all ten.

    The paper reads its rates at the Youden threshold of the test set; where runs held normals
    out (`data.val_fraction > 0`), the rates at a threshold taken from those stand beside them.
    """
    kept = table_rows(rows, table)
    cols = table_columns(table, kept)
    classes = sorted({row_class(row) for row in kept})
    metrics = {metric: table.values[metric] for metric in table.values}
    metrics |= {m: {} for m in HELD_OUT_RATES if any(row.get(m) is not None for row in kept)}
    cells = {}
    for metric, published in metrics.items():
        values = values_by_class(kept, metric)
        for column in cols:
            ours = mean_over_classes(values, column.label, classes)
            cells[(metric, column.label)] = Cell(ours, None, 0, published.get(column.method))
    title = table.title + ("" if len(classes) == 10 else f" (ours: classes {classes} only)")
    return Comparison(
        title,
        list(metrics),
        [c.label for c in cols],
        cells,
        _flags(kept),
        {c.label: c.method for c in cols},
    )


WARNED = " (!)"
WARNED_NOTE = (
    f"{WARNED.strip()} = a run of this cell ended with a warning (e.g. a collapsed memory): "
    "see the row's `warnings`."
)


def format_cell(cell: Cell) -> str:
    ours = "" if cell.ours is None else f"{cell.ours:.4f}"
    if cell.std is not None:
        ours += f" ± {cell.std:.4f}"
    if cell.warned:
        ours += WARNED
    if cell.paper is None:
        return ours
    delta = "" if cell.delta is None else f", {cell.delta:+.4f}"
    return f"{ours} ({cell.paper:.4f}{delta})".strip()


def flags_line(comparison: Comparison) -> str:
    line = "; ".join(f"{flag}: {', '.join(v) or '-'}" for flag, v in comparison.flags.items())
    if any(cell.warned for cell in comparison.cells.values()):
        line += ". " + WARNED_NOTE
    return line


def markdown_grid(header: list[str], lines: Iterable[list[str]]) -> list[str]:
    """A markdown table: the header row, the rule, then one row per list of cells."""
    grid = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    return grid + ["| " + " | ".join(cells) + " |" for cells in lines]


def to_markdown(comparison: Comparison) -> str:
    lines = [
        f"### {comparison.title}",
        "",
        "Each cell: ours (paper, ours - paper); blank = no run. " + flags_line(comparison),
        "",
    ]
    body = (
        [label, *(format_cell(comparison.cells[(label, c)]) for c in comparison.columns)]
        for label in comparison.rows
    )
    return "\n".join(lines + markdown_grid(["", *comparison.columns], body))


def to_csv(comparison: Comparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "column", "method", "ours", "ours_std", "seeds", "paper", "delta"])
    for label in comparison.rows:
        for column in comparison.columns:
            c = comparison.cells[(label, column)]
            method = comparison.method_of[column]
            writer.writerow([label, column, method, c.ours, c.std, c.seeds, c.paper, c.delta])
    return out.getvalue()


def to_latex(comparison: Comparison) -> str:
    header = [c.replace("_", r"\_") for c in comparison.columns]
    lines = [
        r"\begin{tabular}{l" + "c" * len(header) + "}",
        r"\hline",
        " & ".join(["", *header]) + r" \\",
        r"\hline",
    ]
    for label in comparison.rows:
        cells = [format_cell(comparison.cells[(label, c)]) for c in comparison.columns]
        cells = [c.replace("±", r"$\pm$") for c in cells]
        lines.append(" & ".join([label.replace("_", r"\_"), *cells]) + r" \\")
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
