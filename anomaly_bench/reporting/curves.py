"""Learning curves from the rows (`callbacks.learning_curve`): what a cell owes to the epoch.

The honest number is the last epoch's (the row's `auroc`). The best point of a curve is what a
best-test-epoch protocol (the reference GANomaly code) would report; it is shown beside the last
one with the gap, never instead of it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from anomaly_bench.plots import CurveBand, save_learning_curves
from anomaly_bench.reporting.comparison import class_label, markdown_grid, table_rows
from anomaly_bench.reporting.configurations import columns
from anomaly_bench.reporting.paper_tables import PaperTable


@dataclass(frozen=True)
class LastAndBest:
    """A run's last-epoch AUROC, the best over its curve (the last epoch included) and where."""

    last: float
    best: float
    best_epoch: int

    @property
    def gap(self) -> float:
        return self.best - self.last


def curve_points(row: Mapping) -> list[dict]:
    """The row's curve points that have an AUROC, in epoch order."""
    points = [p for p in row.get("learning_curve") or [] if p.get("auroc") is not None]
    return sorted(points, key=lambda p: p["epoch"])


def last_and_best(row: Mapping) -> LastAndBest | None:
    """None for a row without a curve."""
    points = curve_points(row)
    if not points or row.get("auroc") is None:
        return None
    candidates = [(p["auroc"], p["epoch"]) for p in points]
    if points[-1]["epoch"] != row.get("epochs"):
        candidates.append((row["auroc"], row.get("epochs")))
    best, epoch = max(candidates, key=lambda c: c[0])
    return LastAndBest(row["auroc"], best, epoch)


def _format(runs: list[LastAndBest]) -> str:
    if not runs:
        return ""
    last = statistics.fmean(r.last for r in runs)
    best = statistics.fmean(r.best for r in runs)
    where = f", epoch {runs[0].best_epoch}" if len(runs) == 1 else f", {len(runs)} seeds"
    return f"{last:.4f} / {best:.4f} ({best - last:+.4f}{where})"


def curve_markdown(rows: Iterable[dict], table: PaperTable) -> str | None:
    """Per class and column: last-epoch AUROC / best over the curve (gap, best epoch); None when
    no row of the table has a curve."""
    by_column = {
        column: members
        for column, members in columns(table_rows(rows, table)).items()
        if any(curve_points(row) for row in members)
    }
    if not by_column:
        return None
    body = []
    for normal_class in range(len(table.class_labels)):
        cells = []
        for members in by_column.values():
            runs = [last_and_best(r) for r in members if r["normal_class"] == normal_class]
            cells.append(_format([r for r in runs if r is not None]))
        if any(cells):
            body.append([class_label(table, normal_class), *cells])
    header = ["", *(column.label for column in by_column)]
    intro = (
        "#### Last epoch vs best epoch on the test set (learning curves)\n\n"
        "Each cell: last-epoch AUROC (the table's, honest) / best AUROC over the curve (what a "
        "best-test-epoch protocol reports: it chooses the epoch on the test set) (gap, epoch)."
        "\n\n"
    )
    return intro + "\n".join(markdown_grid(header, body))


def _band(curves: list[list[dict]], x_key: str) -> CurveBand | None:
    """Mean and min-max over several curves, at the epochs all of them have."""
    common = set.intersection(*({p["epoch"] for p in c} for c in curves))
    if not common:
        return None
    epochs = sorted(common)
    at = [{p["epoch"]: p for p in c} for c in curves]
    auroc = np.array([[c[e]["auroc"] for e in epochs] for c in at])
    x = np.array([[c[e][x_key] if x_key != "epoch" else e for e in epochs] for c in at])
    return CurveBand(x.mean(0), auroc.mean(0), auroc.min(0), auroc.max(0))


def save_curve_figures(rows: Iterable[dict], table: PaperTable, stem: Path) -> list[Path]:
    """AUROC against epoch and against training seconds, one panel per class with a curve plus
    a mean panel, one line (mean over seeds, min-max band) per configuration."""
    by_column = columns(r for r in table_rows(rows, table) if curve_points(r))
    if not by_column:
        return []
    written = []
    for x_key, x_label, suffix in (
        ("epoch", "epoch", "curves_epoch"),
        ("train_seconds", "training seconds", "curves_seconds"),
    ):
        panels: dict[str, dict[str, CurveBand]] = {}
        for column, members in by_column.items():
            per_class = {}
            for normal_class in sorted({r["normal_class"] for r in members}):
                curves = [curve_points(r) for r in members if r["normal_class"] == normal_class]
                band = _band(curves, x_key)
                if band is not None:
                    per_class[normal_class] = band
                    panels.setdefault(class_label(table, normal_class), {})[column.label] = band
            mean = _mean_band(list(per_class.values()))
            if mean is not None:
                panels.setdefault("mean", {})[column.label] = mean
        path = stem.with_name(f"{stem.name}_{suffix}.png")
        written.append(save_learning_curves(panels, x_label, f"Table {table.number}", path))
    return written


def _mean_band(bands: list[CurveBand]) -> CurveBand | None:
    """The mean over classes of per-class means, with the classes' min-max, at shared points."""
    if not bands:
        return None
    length = min(len(b.x) for b in bands)
    means = np.array([b.mean[:length] for b in bands])
    x = np.array([b.x[:length] for b in bands]).mean(0)
    return CurveBand(x, means.mean(0), means.min(0), means.max(0))
