"""Our results beside a published table: per cell `ours (paper, delta)`, as markdown, CSV and LaTeX.

Ours is the mean (and std over seeds) of `ok` rows of the table's dataset and protocol; a cell
with no run is blank, never zero. Means over classes are taken over the classes that have runs,
and the paper's mean beside them over the same classes, so a partial grid (`CLASSES=0,1`) is
still compared like with like; the row says which classes it covers.
"""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from anomaly_bench.paper_tables import PaperTable

# Row fields that say how a number was chosen; the report lists the values it found.
CHOICE_FLAGS = ("protocol", "threshold_source", "select_epoch_on_test")


@dataclass(frozen=True)
class Cell:
    """Ours (mean, std over seeds or None, number of seeds) and the paper's value, either absent."""

    ours: float | None = None
    std: float | None = None
    seeds: int = 0
    paper: float | None = None

    @property
    def delta(self) -> float | None:
        return None if self.ours is None or self.paper is None else self.ours - self.paper


@dataclass(frozen=True)
class Comparison:
    """A grid of cells: `rows` (labels) x `methods`, plus what the rows' choice flags were."""

    title: str
    rows: list[str]
    methods: list[str]
    cells: dict[tuple[str, str], Cell]
    flags: dict[str, list[str]]


def table_rows(rows: Iterable[dict], table: PaperTable) -> list[dict]:
    """The `ok` rows of the table's dataset and protocol."""
    return [
        row
        for row in rows
        if row.get("status") == "ok"
        and row.get("dataset") == table.dataset
        and row.get("protocol") == table.protocol
    ]


def values_by_class(rows: Iterable[dict], metric: str) -> dict[tuple[int, str], list[float]]:
    """{(normal class, method): the metric of every row (one per seed)}; rows without it skipped.

    Rows are taken as given: filter them (ok, dataset, protocol) first.
    """
    values: dict[tuple[int, str], list[float]] = defaultdict(list)
    for row in rows:
        if row.get(metric) is not None:
            values[(row["normal_class"], row["method"])].append(row[metric])
    return dict(values)


def summarise(values: list[float]) -> tuple[float, float | None]:
    """Mean, and the sample std over seeds when there is more than one."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def mean_over_classes(
    values: dict[tuple[int, str], list[float]], method: str, classes: list[int]
) -> float | None:
    """The mean of the method's per-class means; None unless every class has a run."""
    if not classes or not all(values.get((c, method)) for c in classes):
        return None
    return statistics.fmean(statistics.fmean(values[(c, method)]) for c in classes)


def _flags(rows: list[dict]) -> dict[str, list[str]]:
    return {flag: sorted({str(row.get(flag)) for row in rows}) for flag in CHOICE_FLAGS}


def _methods(table: PaperTable, rows: list[dict]) -> list[str]:
    """The paper's methods in its order, then any other method we ran on this dataset."""
    ours = sorted({row["method"] for row in rows} - set(table.paper_names))
    return [*table.paper_names, *ours]


def per_class_comparison(rows: Iterable[dict], table: PaperTable, metric: str) -> Comparison:
    """Tables 1-3: one row per normal class and a mean row, one column per method."""
    kept = table_rows(rows, table)
    values = values_by_class(kept, metric)
    methods = _methods(table, kept)
    published = table.values.get(metric, {})
    run_classes = sorted({c for c, _ in values})
    cells: dict[tuple[str, str], Cell] = {}
    labels = []
    for normal_class, class_label in enumerate(table.class_labels):
        label = (
            str(normal_class)
            if class_label == str(normal_class)
            else f"{normal_class} ({class_label})"
        )
        labels.append(label)
        for method in methods:
            paper = published[method][normal_class] if method in published else None
            found = values.get((normal_class, method), [])
            mean, std = summarise(found) if found else (None, None)
            cells[(label, method)] = Cell(mean, std, len(found), paper)
    mean_label = (
        "mean"
        if len(run_classes) == len(table.class_labels)
        else ("mean of classes " + ",".join(map(str, run_classes)))
    )
    for method in methods:
        paper = (
            statistics.fmean(published[method][c] for c in run_classes)
            if method in published and run_classes
            else None
        )
        ours = mean_over_classes(values, method, run_classes)
        cells[(mean_label, method)] = Cell(ours, None, 0, paper)
    return Comparison(table.title, [*labels, mean_label], methods, cells, _flags(kept))


def rates_comparison(rows: Iterable[dict], table: PaperTable) -> Comparison:
    """Table 4: one row per rate, the mean over the classes run; the paper's is over all ten."""
    kept = table_rows(rows, table)
    methods = _methods(table, kept)
    cells = {}
    classes = sorted({row["normal_class"] for row in kept})
    for metric, published in table.values.items():
        values = values_by_class(kept, metric)
        for method in methods:
            ours = mean_over_classes(values, method, classes)
            cells[(metric, method)] = Cell(ours, None, 0, published.get(method))
    title = table.title + ("" if len(classes) == 10 else f" (ours: classes {classes} only)")
    return Comparison(title, list(table.values), methods, cells, _flags(kept))


def format_cell(cell: Cell) -> str:
    ours = "" if cell.ours is None else f"{cell.ours:.4f}"
    if cell.std is not None:
        ours += f" ± {cell.std:.4f}"
    if cell.paper is None:
        return ours
    delta = "" if cell.delta is None else f", {cell.delta:+.4f}"
    return f"{ours} ({cell.paper:.4f}{delta})".strip()


def flags_line(comparison: Comparison) -> str:
    return "; ".join(f"{flag}: {', '.join(v) or '-'}" for flag, v in comparison.flags.items())


def to_markdown(comparison: Comparison) -> str:
    methods = comparison.methods
    lines = [
        f"### {comparison.title}",
        "",
        "Each cell: ours (paper, ours - paper); blank = no run. " + flags_line(comparison),
        "",
        "| | " + " | ".join(methods) + " |",
        "|---" * (len(methods) + 1) + "|",
    ]
    for label in comparison.rows:
        cells = (format_cell(comparison.cells[(label, m)]) for m in methods)
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def to_csv(comparison: Comparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "method", "ours", "ours_std", "seeds", "paper", "delta"])
    for label in comparison.rows:
        for method in comparison.methods:
            c = comparison.cells[(label, method)]
            writer.writerow([label, method, c.ours, c.std, c.seeds, c.paper, c.delta])
    return out.getvalue()


def to_latex(comparison: Comparison) -> str:
    methods = [m.replace("_", r"\_") for m in comparison.methods]
    lines = [
        r"\begin{tabular}{l" + "c" * len(methods) + "}",
        r"\hline",
        " & ".join(["", *methods]) + r" \\",
        r"\hline",
    ]
    for label in comparison.rows:
        cells = [format_cell(comparison.cells[(label, m)]) for m in comparison.methods]
        cells = [c.replace("±", r"$\pm$") for c in cells]
        lines.append(" & ".join([label.replace("_", r"\_"), *cells]) + r" \\")
    lines += [r"\hline", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
