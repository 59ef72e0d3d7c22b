"""Which gaps between methods are significant: a Friedman test over the normal classes, the
Nemenyi post-hoc, and a critical-difference diagram (Demsar 2006), via scikit-posthocs.

Each normal class is a block (seeds averaged first), and no method is ranked on classes it never
saw. While a grid fills, the methods that have run every class are compared on all of them
when there are enough of them; otherwise every method is compared on the classes all have run.
The methods left out are named by the report.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import scikit_posthocs as sp
from scipy.stats import friedmanchisquare

from anomaly_bench.evaluation.plots import save_figure

MIN_METHODS = 3
MIN_CLASSES = 3
SIGNIFICANT = 0.05


class Significance(NamedTuple):
    """Friedman's p-value, mean rank per method (1 = best) and Nemenyi's pairwise p-values."""

    friedman_p: float
    mean_ranks: pd.Series
    nemenyi_p: pd.DataFrame
    classes: list[int]


def tested_grid(grid: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """The classes x columns of `frame.class_grid` the tests rank: the columns that have every
    class any of them has, when there are MIN_METHODS of them; else the columns taken from the
    most classes down, each kept while the classes all kept ones share stay MIN_CLASSES or more
    (a column with one class run does not empty the comparison of the others), on those classes.
    """
    wanted = set(columns)
    kept = grid[[c for c in grid.columns if c in wanted]].dropna(axis=1, how="all")
    kept = kept.dropna(axis=0, how="all")
    complete = kept.dropna(axis=1, how="any")
    if complete.shape[1] >= MIN_METHODS:
        return complete
    chosen: list[str] = []
    for column in kept.notna().sum().sort_values(ascending=False, kind="stable").index:
        shared = kept[[*chosen, column]].dropna(axis=0, how="any")
        if not chosen or len(shared) >= MIN_CLASSES:
            chosen.append(column)
    return kept[chosen].dropna(axis=0, how="any")


def significance(table: pd.DataFrame) -> Significance | None:
    """None when there are too few methods or complete classes for the tests to mean much."""
    if table.shape[1] < MIN_METHODS or table.shape[0] < MIN_CLASSES:
        return None
    _, friedman_p = friedmanchisquare(*(table[column] for column in table.columns))
    ranks = table.rank(axis=1, ascending=False).mean().sort_values()
    nemenyi = sp.posthoc_nemenyi_friedman(table.to_numpy())
    nemenyi.index = nemenyi.columns = table.columns
    return Significance(float(friedman_p), ranks, nemenyi, [int(c) for c in table.index])


def mean_ranks_text(result: Significance) -> str:
    """`method 1.60, other 2.80, ...`, best first."""
    return ", ".join(f"{method} {rank:.2f}" for method, rank in result.mean_ranks.items())


def significant_pairs_text(result: Significance) -> str:
    """`a vs b (p = 0.012), ...` for the Nemenyi pairs below SIGNIFICANT, best-ranked first;
    `none` when there are none."""
    order = list(result.mean_ranks.index)
    pairs = [
        f"{a} vs {b} (p = {result.nemenyi_p.loc[a, b]:.3g})"
        for i, a in enumerate(order)
        for b in order[i + 1 :]
        if result.nemenyi_p.loc[a, b] < SIGNIFICANT
    ]
    return ", ".join(pairs) or "none"


def significance_with_diagram(
    grid: pd.DataFrame, columns: Iterable[str], title: str, path: Path
) -> tuple[Significance, Path] | None:
    """The tests over the classes every column (of `frame.class_grid`) has and the CD diagram
    at `path`; None when there are too few methods or classes."""
    result = significance(tested_grid(grid, columns))
    if result is None:
        return None
    return result, save_cd_diagram(result, title, path)


def save_cd_diagram(result: Significance, title: str, path: Path) -> Path:
    fig, ax = plt.subplots(figsize=(8, 2.5))
    drawn = sp.critical_difference_diagram(result.mean_ranks, result.nemenyi_p, ax=ax)
    # Each crossbar is drawn through a set of methods in the set's order, which Python's hash
    # seed changes from process to process: sorted, the same rows give the same picture.
    for line, *_ in drawn["crossbars"]:
        line.set_xdata(sorted(line.get_xdata()))
    ax.set_title(f"{title}: Friedman p = {result.friedman_p:.3g} over classes {result.classes}")
    fig.tight_layout()
    return save_figure(fig, path)
