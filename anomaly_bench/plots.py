"""Figures saved as PNG files, so any logger (or none) can show them."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


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
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def save_score_histogram(
    scores: np.ndarray, labels: np.ndarray, threshold: float, path: Path
) -> Path:
    """Normal and anomalous score distributions on shared bins, with the decision threshold."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    bins = np.histogram_bin_edges(scores, bins=50)
    for value, name in ((0, "normal"), (1, "anomalous")):
        ax.hist(scores[labels == value], bins=bins, alpha=0.6, density=True, label=name)
    ax.axvline(threshold, color="black", linestyle="--", linewidth=0.8, label="Youden threshold")
    ax.set(xlabel="anomaly score", ylabel="density")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def save_per_class_comparison(
    class_labels: list[str],
    ours: dict[str, list[float | None]],
    paper: dict[str, list[float]],
    metric: str,
    path: Path,
) -> Path:
    """A metric per normal class per method: ours solid with dots, the paper's dashed.

    Classes without a run of a method leave a gap in its line (never a zero).
    """
    fig, ax = plt.subplots(figsize=(9, 4.5))
    x = np.arange(len(class_labels))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for index, method in enumerate(sorted(set(ours) | set(paper))):
        colour = colours[index % len(colours)]
        if method in ours:
            values = np.array([np.nan if v is None else v for v in ours[method]], dtype=float)
            ax.plot(x, values, marker="o", color=colour, label=f"{method} (ours)")
        if method in paper:
            ax.plot(x, paper[method], "--", color=colour, alpha=0.6, label=f"{method} (paper)")
    ax.set_xticks(x, class_labels, rotation=30, ha="right")
    ax.set(ylabel=metric, xlabel="normal class")
    ax.legend(fontsize=7, ncol=2, loc="lower left")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
