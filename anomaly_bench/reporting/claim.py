"""The paper's claim tested on our cells: its method (Mem_GANomaly) against the baseline it
extends (GANomaly), class by class, under the honest protocol and under the best-test-epoch one.

The Friedman / Nemenyi ranking of a table compares every method at once and, while a grid
fills, leaves out the columns with classes to run; the claim is one pair, so it is tested on
the classes both columns have, with the paired test for that design (Wilcoxon's signed-rank
test over the classes, each cell its seeds' mean). The paper's own figures on the same classes
stand beside ours, so a reader sees whether the published margin survives.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
from scipy.stats import wilcoxon

from anomaly_bench.reporting.comparison import markdown_grid, table_rows
from anomaly_bench.reporting.curves import BEST_TEST_AUROC, last_and_best
from anomaly_bench.reporting.frame import cell_stats, class_grid
from anomaly_bench.reporting.paper_tables import PaperTable
from anomaly_bench.reporting.significance import SIGNIFICANT

PROPOSED = "mem_ganomaly"  # the paper's method
BASELINE = "ganomaly"  # the method it adds a memory to


def paired(grid: pd.DataFrame, columns: tuple[str, str]) -> pd.DataFrame:
    """The classes on which both `columns` (PROPOSED's and BASELINE's, in that order) have a
    cell, as a PROPOSED and a BASELINE column."""
    if not set(columns) <= set(grid.columns):
        return pd.DataFrame(columns=[PROPOSED, BASELINE])
    pairs = grid[list(columns)].dropna(axis=0, how="any")
    return pairs.set_axis([PROPOSED, BASELINE], axis=1)


def wilcoxon_p(pairs: pd.DataFrame) -> float | None:
    """Two-sided signed-rank p over the classes; None with fewer than two classes that differ
    (the test has nothing to rank)."""
    differences = pairs[PROPOSED] - pairs[BASELINE]
    if (differences != 0).sum() < 2:
        return None
    return float(wilcoxon(pairs[PROPOSED], pairs[BASELINE]).pvalue)


def _classes(index: Iterable[int]) -> str:
    return ", ".join(str(c) for c in index)


def _line(label: str, pairs: pd.DataFrame, p: float | None, paper: PaperTable) -> list[str]:
    published = paper.values.get("auroc", {})
    proposed, baseline = pairs[PROPOSED].mean(), pairs[BASELINE].mean()
    wins = int((pairs[PROPOSED] > pairs[BASELINE]).sum())
    paper_margin = (
        sum(published[PROPOSED][c] - published[BASELINE][c] for c in pairs.index) / len(pairs)
        if {PROPOSED, BASELINE} <= set(published)
        else None
    )
    return [
        label,
        _classes(pairs.index),
        f"{proposed:.4f}",
        f"{baseline:.4f}",
        f"{proposed - baseline:+.4f}",
        "" if paper_margin is None else f"{paper_margin:+.4f}",
        f"{wins} of {len(pairs)}",
        "" if p is None else f"{p:.3g}",
    ]


def _verdict(label: str, pairs: pd.DataFrame, p: float | None) -> str:
    if p is None:
        return f"{label}: too few classes that differ to test"
    if p >= SIGNIFICANT:
        return f"{label}: no significant difference (p = {p:.3g})"
    better = PROPOSED if pairs[PROPOSED].mean() > pairs[BASELINE].mean() else BASELINE
    return f"{label}: {better} better (p = {p:.3g})"


def claim_markdown(
    rows: Iterable[dict],
    paper: PaperTable,
    columns: tuple[str, str] = (PROPOSED, BASELINE),
    heading: str = "##",
) -> str | None:
    """The pair's means on their shared classes at the last epoch (the table's cells) and at the
    best test epoch (rows with a curve), the paper's margin on the same classes, the classes
    the paper's method wins and Wilcoxon's p. `columns` are the two methods' column labels (their
    default configurations unless given: another configuration's runs are never taken in). None
    when the two columns share no class."""
    rows = table_rows(rows, paper)
    last = paired(class_grid(cell_stats(rows, "auroc")), columns)
    if last.empty:
        return None
    curved = [row | {BEST_TEST_AUROC: s.best} for row in rows if (s := last_and_best(row))]
    best = paired(class_grid(cell_stats(curved, BEST_TEST_AUROC)), columns)
    protocols = [("last epoch (honest)", last)]
    if not best.empty:
        protocols.append(("best test epoch (chosen on the test set)", best))
    header = [
        "protocol", "classes", PROPOSED, BASELINE, "difference", "paper's difference",
        f"{PROPOSED} higher on", "Wilcoxon p",
    ]  # fmt: skip
    tested = [(label, pairs, wilcoxon_p(pairs)) for label, pairs in protocols]
    body = [_line(label, pairs, p, paper) for label, pairs, p in tested]
    verdicts = "; ".join(_verdict(label, pairs, p) for label, pairs, p in tested)
    return "\n".join(
        [
            f"{heading} The paper's claim: {columns[0]} against {columns[1]}",
            "",
            "On the classes both columns have (each cell its seeds' mean), under the honest "
            "protocol and under the best-test-epoch one (classes where both runs have a "
            "curve); the paper's difference is its own two columns' on the same classes. "
            "Wilcoxon's signed-rank test over the classes, two-sided (`scipy.stats.wilcoxon`).",
            "",
            *markdown_grid(header, body),
            "",
            f"At p < {SIGNIFICANT}: {verdicts}.",
        ]
    )
