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
