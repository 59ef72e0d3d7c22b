"""Learning curves from the rows (`callbacks.learning_curve`): what a cell owes to the epoch.

The honest number is the last epoch's (the row's `auroc`). The best point of a curve is what a
best-test-epoch protocol (the reference GANomaly code) would report; it is shown beside the last
one with the gap, never instead of it.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from anomaly_bench.evaluation.plots import CurveBand, save_learning_curves
from anomaly_bench.reporting.comparison import class_label, markdown_grid, table_rows
from anomaly_bench.reporting.configurations import columns
from anomaly_bench.reporting.frame import cell_stats, class_grid
from anomaly_bench.reporting.paper_tables import PaperTable
from anomaly_bench.reporting.significance import (
    MIN_METHODS,
    SIGNIFICANT,
    Significance,
    mean_ranks_text,
    significance,
    significant_pairs_text,
    tested_grid,
)
from anomaly_bench.settings.protocols import row_class
from anomaly_bench.store.row_schema import curve_scoring_seconds
from anomaly_bench.store.row_upgrades import curve_today


@dataclass(frozen=True)
class LastAndBest:
    """A run's last-epoch AUROC, its best test epoch's AUROC on the whole test split and which
    epoch that was, and what its curve cost in seconds beside its training seconds."""

    last: float
    best: float
    best_epoch: int
    point_seconds: float
    choice_seconds: float
    train_seconds: float
    subsample: int | None
    every_n_epochs: int

    @property
    def gap(self) -> float:
        return self.best - self.last


def _points_and_repairs(row: Mapping) -> tuple[list[dict], int]:
    points = [p for p in row.get("learning_curve") or [] if p.get("auroc") is not None]
    return curve_today(sorted(points, key=lambda p: p["epoch"]))


def curve_points(row: Mapping) -> list[dict]:
    """The row's curve points that have an AUROC, in epoch order, a resumed epoch's clock fault
    undone (`row_upgrades.curve_today`)."""
    return _points_and_repairs(row)[0]


def offers_a_choice(row: Mapping) -> bool:
    """Whether the row's curve has an epoch besides the last to choose. A curve of one point at
    the run's last epoch (iForest's single fit, in rows written before the callback stopped
    reading such runs) is the final test read twice: its "best epoch" is no choice, and its cost
    is a scoring pass set against seconds of training."""
    points = curve_points(row)
    return bool(points) and not (len(points) == 1 and points[0]["epoch"] == row.get("epochs"))


def clock_repaired(row: Mapping) -> bool:
    """Whether the row's curve clock had a resumed epoch's fault, taken as a median epoch."""
    return _points_and_repairs(row)[1] > 0


def fit_seconds(row: Mapping) -> float:
    """Seconds the run spent in fit, across a resume: a row's `train_seconds` covers only the
    process that finished the run, while a curve's clock (each point's cumulative training
    seconds) and its scoring passes span every process."""
    points = curve_points(row)
    own = row.get("train_seconds") or 0.0
    if not points or points[-1].get("train_seconds") is None:
        return own
    scoring = sum(p.get("score_seconds") or 0.0 for p in points)
    return max(own, points[-1]["train_seconds"] + scoring)


def _best_point(row: Mapping, points: list[dict]) -> tuple[float, int]:
    """A curve read on the whole split (rows before `epoch_choices`): its best point, the last
    epoch included."""
    candidates = [(p["auroc"], p["epoch"]) for p in points]
    if points[-1]["epoch"] != row.get("epochs"):
        candidates.append((row["auroc"], row.get("epochs")))
    return max(candidates, key=lambda c: c[0])


def last_and_best(row: Mapping) -> LastAndBest | None:
    """None for a row without a curve that offers a choice."""
    if not offers_a_choice(row) or row.get("auroc") is None:
        return None
    points = curve_points(row)
    chosen = (row.get("epoch_choices") or {}).get("best_test_epoch")
    best, epoch = (chosen["auroc"], chosen["epoch"]) if chosen else _best_point(row, points)
    point_seconds, choice_seconds = curve_scoring_seconds(row)
    # The curve's own clock (training only, carried across a resume); a row's train_seconds
    # covers only the process that finished the run, and its scoring passes too.
    train_seconds = points[-1].get("train_seconds")
    if train_seconds is None:
        train_seconds = (row.get("train_seconds") or 0.0) - point_seconds - choice_seconds
    subsample = row.get("curve_subsample") if chosen else None
    return LastAndBest(
        row["auroc"],
        best,
        epoch,
        point_seconds,
        choice_seconds,
        train_seconds,
        subsample,
        cadence(points),
    )


def cadence(points: list[dict]) -> int:
    """Epochs between a curve's points (1 for a single point)."""
    epochs = [p["epoch"] for p in points]
    return min((b - a for a, b in pairwise(epochs)), default=1)


def _shown(last: float, best: float, where: str) -> str:
    return f"{last:.4f} / {best:.4f} ({best - last:+.4f}, {where})"


def _format(runs: list[LastAndBest]) -> str:
    """One class's cell: its seeds' mean last and best AUROC."""
    if not runs:
        return ""
    where = f"epoch {runs[0].best_epoch}" if len(runs) == 1 else f"{len(runs)} seeds"
    return _shown(
        statistics.fmean(r.last for r in runs), statistics.fmean(r.best for r in runs), where
    )


# The metric a row's best test epoch gives, beside its `auroc` (the last epoch's).
BEST_TEST_AUROC = "best_test_epoch_auroc"


def _over_classes(runs: list[tuple[dict, LastAndBest]]) -> tuple[float, float]:
    """The last and the best test epoch's AUROC as the table's own mean row reads a metric: the
    pivot's cell means (a class's seeds' mean) averaged over the classes, so a class run with
    three seeds counts once."""
    rows = [row | {BEST_TEST_AUROC: summary.best} for row, summary in runs]
    last, best = (
        class_grid(cell_stats(rows, m)).iloc[:, 0].mean() for m in ("auroc", BEST_TEST_AUROC)
    )
    return float(last), float(best)


def _classes(count: int) -> str:
    return f"{count} class{'es' if count != 1 else ''}"


def _cost(runs: list[LastAndBest]) -> str:
    """Curve seconds against training seconds, per kind of curve (a subsample's points and the
    chosen epochs' full-split scoring, or every point on the whole split; a point every epoch
    unless it says how many epochs apart). The two parts are given apart where both cost: the
    points grow with the epochs, the chosen epochs' scoring is once a run, so a short run's
    share is mostly the latter."""
    kinds: dict[tuple[int, int], list[LastAndBest]] = {}
    for run in runs:
        kinds.setdefault((run.subsample or 0, run.every_n_epochs), []).append(run)
    parts = []
    for (subsample, every), mine in sorted(kinds.items(), reverse=True):
        points = sum(r.point_seconds for r in mine)
        choice = sum(r.choice_seconds for r in mine)
        curve = points + choice
        train = sum(r.train_seconds for r in mine)
        split = (
            f": the points {100 * points / train:.0f} %, the chosen epochs on the whole "
            f"split {100 * choice / train:.0f} %"
            if points > 0 and choice > 0 and train > 0
            else ""
        )
        share = f" ({100 * curve / train:.0f} %{split})" if train > 0 else ""
        kind = f"{subsample:,}-image subsample" if subsample else "whole split"
        if every > 1:
            kind += f", a point every {every} epochs"
        parts.append(f"{kind}: {curve / 60:.0f} of {train / 60:.0f} min{share}")
    return "; ".join(parts)


def _explained(label: str, runs: list[tuple[dict, LastAndBest]], paper: float | None) -> str | None:
    """How much of the gap to the paper's mean the best-test-epoch choice closes."""
    if paper is None or not runs:
        return None
    last, best = _over_classes(runs)
    text = (
        f"- {label}: paper {paper:.4f}, last epoch {last:.4f} ({last - paper:+.4f}), best test "
        f"epoch {best:.4f} ({best - paper:+.4f})"
    )
    if paper > last:
        share = min(max((best - last) / (paper - last), 0.0), 1.0)
        text += f": the epoch choice explains {100 * share:.0f} % of the shortfall"
    return text + "."


def _ranked(result: Significance) -> str:
    return (
        f"Friedman p = {result.friedman_p:.3g}; mean rank (1 = best): {mean_ranks_text(result)}; "
        f"Nemenyi pairs with p < {SIGNIFICANT}: {significant_pairs_text(result)}"
    )


def protocols_significance(curved: list[tuple[dict, LastAndBest]], labels: list[str]) -> str | None:
    """Friedman and Nemenyi over the columns with a curve, on the same classes, once on the last
    epoch's AUROC and once on the best test epoch's: whether choosing the epoch on the test set
    changes which method ranks first, and how significantly. None for a table with fewer such
    columns than a ranking needs."""
    if len(labels) < MIN_METHODS:
        return None
    rows = [row | {BEST_TEST_AUROC: summary.best} for row, summary in curved]
    best_grid = tested_grid(class_grid(cell_stats(rows, BEST_TEST_AUROC)), labels)
    best = significance(best_grid)
    if best is None:
        return (
            "Ranking the columns with a curve under both protocols needs 3 of them with curves "
            "on the same 3 classes or more; not yet."
        )
    last_grid = class_grid(cell_stats(rows, "auroc")).loc[best_grid.index, best_grid.columns]
    last = significance(last_grid)
    waiting = [label for label in labels if label not in best_grid.columns]
    return (
        f"The columns with a curve, ranked on classes {best.classes} (each cell its seeds' "
        f"mean): at the last epoch, {_ranked(last)}. At the best test epoch, {_ranked(best)}."
        + (
            f" Not ranked yet (too few classes with a curve): {', '.join(waiting)}."
            if waiting
            else ""
        )
    )


def curve_markdown(rows: Iterable[dict], table: PaperTable) -> str | None:
    """Per class and column: last-epoch AUROC / best test epoch's AUROC (gap, epoch); a mean
    row over the classes with a curve, the curves' cost, and a paragraph on how much of the
    paper's column the epoch choice explains. None when no row of the table has a curve."""
    by_column = {
        column: [(r, summary) for r in members if (summary := last_and_best(r)) is not None]
        for column, members in columns(table_rows(rows, table)).items()
    }
    by_column = {column: runs for column, runs in by_column.items() if runs}
    if not by_column:
        return None
    body, every = [], {column: [s for _, s in runs] for column, runs in by_column.items()}
    for normal_class in range(len(table.class_labels)):
        cells = [
            _format([s for r, s in runs if row_class(r) == normal_class])
            for runs in by_column.values()
        ]
        if any(cells):
            body.append([class_label(table, normal_class), *cells])
    classes = {c: sorted({row_class(r) for r, _ in runs}) for c, runs in by_column.items()}
    body.append(
        [
            "mean",
            *(
                _shown(*_over_classes(runs), _classes(len(classes[c])))
                for c, runs in by_column.items()
            ),
        ]
    )
    body.append(["*curve cost (of training)*", *(_cost(every[c]) for c in by_column)])
    published = table.values.get("auroc", {})
    explained = [
        _explained(
            column.label,
            by_column[column],
            statistics.fmean(published[column.method][c] for c in classes[column])
            if column.method in published
            else None,
        )
        for column in by_column
    ]
    header = ["", *(column.label for column in by_column)]
    intro = (
        "#### Last epoch vs best test epoch (learning curves)\n\n"
        "Each cell: last-epoch AUROC (the table's, honest) / the best test epoch's AUROC (what "
        "a best-test-epoch protocol reports: it chooses the epoch on the test set) (gap, epoch). "
        "Points are read on a fixed subsample of the test split (half normal, half anomalous, "
        "stratified by class; the row's `curve_subsample`, the whole split where it is null); "
        "the chosen epoch's weights are then scored on the whole test split, which gives the "
        "second figure. The mean row averages the classes with a curve.\n\n"
    )
    lines = [intro + "\n".join(markdown_grid(header, body))]
    repaired = sum(clock_repaired(r) for runs in by_column.values() for r, _ in runs)
    if repaired:
        lines.append(
            f"The curve clocks of {repaired} run{'s' if repaired > 1 else ''} resumed in the "
            "middle of an epoch before the resume fix counted the resumed epoch from the "
            "machine's boot; that epoch is counted at the run's median epoch time (minutes and "
            "run hours are estimates there)."
        )
    said = [text for text in explained if text]
    if said:
        lines.append("Against the paper's mean over the same classes:\n\n" + "\n".join(said))
    curved = [run for runs in by_column.values() for run in runs]
    ranked = protocols_significance(curved, [column.label for column in by_column])
    return "\n\n".join([*lines, *([ranked] if ranked else [])])


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
    by_column = columns(r for r in table_rows(rows, table) if offers_a_choice(r))
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
            for normal_class in sorted({row_class(r) for r in members}):
                curves = [curve_points(r) for r in members if row_class(r) == normal_class]
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
