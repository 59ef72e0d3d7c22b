"""Figures saved as PNG files, so any logger (or none) can show them."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from anomaly_bench.settings.whole_files import written_whole


def save_figure(fig: plt.Figure, path: Path) -> Path:
    """Written whole as PNG and closed: a report killed while drawing leaves the previous
    picture (a committed reference figure among them), never half of the new one; and pyplot
    keeps each figure alive until closed, while one process may draw them for every run of a
    grid. The layout is the caller's (`tight_layout` with its own padding)."""
    with written_whole(path) as partial:
        fig.savefig(partial, dpi=100, format="png")
    plt.close(fig)
    return path


def _saved(fig: plt.Figure, path: Path) -> Path:
    fig.tight_layout()
    return save_figure(fig, path)


def save_roc_curve(fpr: np.ndarray, tpr: np.ndarray, auroc: float, path: Path) -> Path:
    """ROC curve with anomalies as positives, the chance diagonal for reference."""
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot(np.concatenate([[0.0], fpr]), np.concatenate([[0.0], tpr]), label=f"AUROC {auroc:.4f}")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=0.8)
    ax.set(
        xlabel="false-positive rate (normals flagged)",
        ylabel="true-positive rate",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="lower right")
    return _saved(fig, path)


def save_score_histogram(
    scores: np.ndarray, labels: np.ndarray, threshold: float, path: Path
) -> Path:
    """Normal and anomalous score distributions on shared bins, with the decision threshold."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    bins = np.histogram_bin_edges(scores, bins=50)
    for value, name in ((0, "normal"), (1, "anomalous")):
        ax.hist(scores[labels == value], bins=bins, alpha=0.6, density=True, label=name)
    if np.isfinite(threshold):  # +inf: no threshold beats chance, nothing is flagged
        ax.axvline(threshold, color="black", linestyle="--", linewidth=0.8, label="Youden")
    ax.set(xlabel="anomaly score", ylabel="density")
    # A fixed place: matplotlib's "best" searches every bar and warns that it is slow.
    ax.legend(loc="upper right")
    return _saved(fig, path)


def save_per_class_comparison(
    class_labels: list[str],
    ours: dict[str, list[float | None]],
    paper: dict[str, list[float]],
    method_of: dict[str, str],
    metric: str,
    path: Path,
) -> Path:
    """A metric per normal class: each of our columns (a method's configuration) solid with
    dots, the paper's value per method dashed in the same colour.

    Classes without a run of a column leave a gap in its line (never a zero).
    """
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = np.arange(len(class_labels))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = "osD^v"
    methods = sorted(set(paper) | {method_of[label] for label in ours})
    for index, method in enumerate(methods):
        colour = colours[index % len(colours)]
        mine = [label for label in ours if method_of[label] == method]
        for number, label in enumerate(mine):
            values = np.array([np.nan if v is None else v for v in ours[label]], dtype=float)
            marker = markers[number % len(markers)]
            ax.plot(x, values, marker=marker, color=colour, label=f"{label} (ours)")
        if method in paper:
            ax.plot(x, paper[method], "--", color=colour, alpha=0.6, label=f"{method} (paper)")
    ax.set_xticks(x, class_labels, rotation=30, ha="right")
    ax.set(ylabel=metric, xlabel="normal class")
    ax.legend(fontsize=7, ncol=2, loc="best")
    return _saved(fig, path)


class CurveBand(NamedTuple):
    """One line of a learning-curve panel: x, the mean AUROC and its min-max band."""

    x: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray


def save_learning_curves(
    panels: dict[str, dict[str, CurveBand]], x_label: str, title: str, path: Path
) -> Path:
    """One panel per normal class (and the mean), one line with its band per configuration."""
    names = list(panels)
    ncols = min(4, len(names))
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.6 * ncols, 2.8 * nrows), squeeze=False, sharey=True
    )
    for ax, name in zip(axes.flat, names, strict=False):
        for label, band in panels[name].items():
            (line,) = ax.plot(band.x, band.mean, marker=".", label=label)
            ax.fill_between(band.x, band.low, band.high, color=line.get_color(), alpha=0.2)
        ax.set_title(f"class {name}" if name != "mean" else "mean over classes", fontsize=9)
        ax.set_xlabel(x_label, fontsize=8)
        ax.set_ylabel("test AUROC", fontsize=8)
    for ax in list(axes.flat)[len(names) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=6)
    fig.suptitle(f"{title}: test AUROC during training (mean over seeds, min-max band)")
    return _saved(fig, path)
