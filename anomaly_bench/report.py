"""Results store -> tables: `python -m anomaly_bench.report --results-dir results`. Never trains.

One table per (dataset, protocol): rows are normal classes plus their mean, columns are methods,
each cell the mean (and std over seeds, when there are several) of a metric over `ok` rows.
Missing runs are blank, never zero.
"""

from __future__ import annotations

import argparse
import statistics
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from anomaly_bench.results import ResultsStore

Cell = tuple[float, float | None]


def format_cell(cell: Cell | None) -> str:
    if cell is None:
        return ""
    mean, std = cell
    return f"{mean:.4f}" if std is None else f"{mean:.4f} ± {std:.4f}"


def summarise(values: list[float]) -> Cell:
    """Mean, and the sample std over seeds when there is more than one."""
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else None


def metric_table(rows: Iterable[dict], metric: str) -> dict[tuple[str, str], dict]:
    """{(dataset, protocol): {"methods": [...], "cells": {(class, method): Cell}}} from ok rows."""
    values: dict[tuple[str, str], dict[tuple[int, str], list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for row in rows:
        if row.get("status") == "ok" and row.get(metric) is not None:
            values[(row["dataset"], row["protocol"])][(row["normal_class"], row["method"])].append(
                row[metric]
            )
    tables = {}
    for key, by_cell in values.items():
        tables[key] = {
            "methods": sorted({method for _, method in by_cell}),
            "classes": sorted({normal_class for normal_class, _ in by_cell}),
            "cells": {cell: summarise(v) for cell, v in by_cell.items()},
        }
    return tables


def markdown(table: dict, title: str) -> str:
    """A markdown table with a mean row (the mean of each method's class means, where complete)."""
    methods, classes, cells = table["methods"], table["classes"], table["cells"]
    lines = [
        f"### {title}",
        "",
        "| class | " + " | ".join(methods) + " |",
        "|---" * (len(methods) + 1) + "|",
    ]
    for normal_class in classes:
        lines.append(
            f"| {normal_class} | "
            + " | ".join(format_cell(cells.get((normal_class, m))) for m in methods)
            + " |"
        )
    means = []
    for method in methods:
        column = [cells[(c, method)][0] for c in classes if (c, method) in cells]
        means.append(f"{statistics.fmean(column):.4f}" if len(column) == len(classes) else "")
    lines.append("| mean | " + " | ".join(means) + " |")
    return "\n".join(lines)


def report(results_dir: Path, metric: str = "auroc") -> str:
    rows = ResultsStore(results_dir).read()
    failed = sum(row.get("status") == "failed" for row in rows)
    sections = [
        markdown(table, f"{metric} — {dataset}, {protocol} protocol")
        for (dataset, protocol), table in sorted(metric_table(rows, metric).items())
    ]
    if not sections:
        sections.append(f"no ok rows with {metric!r} in {ResultsStore(results_dir).path}")
    if failed:
        sections.append(
            f"{failed} failed run(s): see their `error` in {ResultsStore(results_dir).path}"
        )
    return "\n\n".join(sections)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results-dir", type=Path, default=Path("results"))
    parser.add_argument(
        "--metric", default="auroc", help="any numeric row field: auroc, auprc, gmean, ..."
    )
    args = parser.parse_args()
    print(report(args.results_dir, args.metric))


if __name__ == "__main__":
    main()
