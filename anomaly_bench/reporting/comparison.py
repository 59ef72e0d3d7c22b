"""Our results beside a published table: per cell `ours (paper, delta)`, as markdown, CSV and LaTeX.

Ours is the mean (and std over seeds) of `ok` rows of the table's dataset and protocol and of one
configuration (`configurations.py`): a method run under two configurations gets two columns, each
beside the paper's value. A cell with no run is blank, never zero. Means over classes are taken
over the classes that have runs, and the paper's mean beside them over the same classes, so a
partial grid (`CLASSES=0,1`) is still compared like with like; the row says which classes it
covers.

Every number comes from the one pivot, `frame.cell_stats`; every cell's text from `format_cell`;
CSV and LaTeX are pandas' writers of the comparison as a frame (`long_frame`, `formatted`).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from anomaly_bench.reporting.configurations import Column, columns
from anomaly_bench.reporting.frame import cell_stats, class_grid
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


def cell_of(stats: pd.DataFrame, normal_class: int, column: str, paper: float | None) -> Cell:
    """One cell of `frame.cell_stats` (an empty one where the pivot has no such cell)."""
    if (normal_class, column) not in stats.index:
        return Cell(paper=paper)
    found = stats.loc[(normal_class, column)]
    seeds = int(found["seeds"])
    mean = float(found["mean"]) if seeds else None
    std = float(found["std"]) if seeds > 1 else None
    return Cell(mean, std, seeds, paper, bool(found["warned"]))


def mean_over_classes(grid: pd.DataFrame, column: str, classes: list[int]) -> float | None:
    """The mean of the column's per-class means (`frame.class_grid`); None unless every class
    has a run."""
    if not classes or column not in grid.columns:
        return None
    means = grid[column].reindex(classes)
    return None if means.isna().any() else float(means.mean())


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
    stats = cell_stats(kept, metric)
    grid = class_grid(stats)
    cols = table_columns(table, kept)
    published = table.values.get(metric, {})
    run_classes = sorted(int(c) for c in grid.index[grid.notna().any(axis=1)])
    cells: dict[tuple[str, str], Cell] = {}
    labels = [class_label(table, c) for c in range(len(table.class_labels))]
    for normal_class, label in enumerate(labels):
        for column in cols:
            paper = published[column.method][normal_class] if column.method in published else None
            cells[(label, column.label)] = cell_of(stats, normal_class, column.label, paper)
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
        ours = mean_over_classes(grid, column.label, run_classes)
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
        grid = class_grid(cell_stats(kept, metric))
        for column in cols:
            ours = mean_over_classes(grid, column.label, classes)
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


SEEDS_NOTE = "ours is the mean ± std over its n seeds where it has more than one (n=...)"


def format_cell(cell: Cell) -> str:
    """`ours ± std n=seeds (paper, ours - paper)`; the std and the seed count only where a cell
    has more than one seed, the paper's part only where the paper has the cell."""
    ours = "" if cell.ours is None else f"{cell.ours:.4f}"
    if cell.std is not None:
        ours += f" ± {cell.std:.4f} n={cell.seeds}"
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
    """A markdown table: the header row, the rule, then one row per list of cells.

    The one markdown writer of the reports. Not pandas' `to_markdown`: it pads every cell to its
    column's width (through tabulate), which would rewrite every committed page for no change
    a reader sees; this writes each cell as it is.
    """
    grid = ["| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    return grid + ["| " + " | ".join(cells) + " |" for cells in lines]


def frame_grid(frame: pd.DataFrame, corner: str = "") -> list[str]:
    """`markdown_grid` of a frame of strings, its index as the first column headed `corner`."""
    return markdown_grid([corner, *frame.columns], ([str(i), *v] for i, *v in frame.itertuples()))


def formatted(
    comparison: Comparison, cell_text: Callable[[Cell], str] = format_cell
) -> pd.DataFrame:
    """The comparison as rows x columns of text, each cell written by `cell_text`."""
    return pd.DataFrame(
        [
            [cell_text(comparison.cells[(row, c)]) for c in comparison.columns]
            for row in comparison.rows
        ],
        index=comparison.rows,
        columns=comparison.columns,
    )


def to_markdown(comparison: Comparison) -> str:
    lines = [
        f"### {comparison.title}",
        "",
        f"Each cell: ours (paper, ours - paper); {SEEDS_NOTE}; blank = no run. "
        + flags_line(comparison),
        "",
    ]
    return "\n".join(lines + frame_grid(formatted(comparison)))


def long_frame(comparison: Comparison) -> pd.DataFrame:
    """One line per cell: its row and column, the column's method, ours, our std over seeds, the
    number of seeds, the paper's value and the difference (blank where absent)."""
    return pd.DataFrame(
        [
            {
                "row": row,
                "column": column,
                "method": comparison.method_of[column],
                "ours": cell.ours,
                "ours_std": cell.std,
                "seeds": cell.seeds,
                "paper": cell.paper,
                "delta": cell.delta,
            }
            for row in comparison.rows
            for column in comparison.columns
            for cell in [comparison.cells[(row, column)]]
        ]
    )


def to_csv(comparison: Comparison) -> str:
    return long_frame(comparison).to_csv(index=False)


def to_latex(comparison: Comparison) -> str:
    """A tabular (booktabs rules) of the formatted cells, LaTeX's special characters escaped."""
    return formatted(comparison).to_latex(
        escape=True, column_format="l" + "c" * len(comparison.columns)
    )
