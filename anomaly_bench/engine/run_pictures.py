"""Example pictures for finished runs that have none in the store: rows written before runs drew
them, or copied from another machine with their checkpoints.

Each run is rebuilt from its row and `last.ckpt` as `predict` rebuilds it (safe loading, trusted
targets), and the strip drawn from the run's saved test scores (`scores.npz`, from the same final
weights), or, where that file is gone, from its test split scored again. A method without a
reconstruction is told apart on one image before any scoring, so a latent search never runs over
a whole split for nothing.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path

import numpy as np
import torch

from anomaly_bench.data.one_class import OneClassDataModule
from anomaly_bench.engine.callbacks.last_checkpoint import LAST
from anomaly_bench.engine.trained_model import (
    existing_store,
    load_run,
    runs_named,
    scoring_device,
    trained_in,
)
from anomaly_bench.evaluation.example_pictures import PICTURES_FILE, draw_example_pictures
from anomaly_bench.evaluation.scoring import score_split
from anomaly_bench.models.base import AnomalyModule
from anomaly_bench.store.results import ResultsStore

log = logging.getLogger(__name__)


def checkpoint_epochs(path: Path) -> int:
    """How many epochs the weights in a `last.ckpt` trained (it saves the 0-based epoch)."""
    return torch.load(path, map_location="cpu", weights_only=True)["epoch"] + 1


def saved_scores(row: dict, runs_dir: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The run's own test scores and labels (`scores.npz`, written by the same final weights),
    when the file is at hand and holds the row's `n_scored` images."""
    path = runs_dir / row.get("scores_path", "")
    if not row.get("scores_path") or not path.is_file():
        return None
    with np.load(path, allow_pickle=False) as saved:
        scores, labels = saved["scores"].astype(np.float64), saved["labels"]
    return (scores, labels) if len(scores) == row.get("n_scored") else None


def rescored(model: AnomalyModule, data: OneClassDataModule) -> tuple[np.ndarray, np.ndarray]:
    scored = score_split(model, data.test_dataloader())
    return scored["scores"].double().numpy(), scored["labels"].numpy()


def draw_for_row(store: ResultsStore, row: dict, device: torch.device, runs_dir: Path) -> str:
    """Draw one run's pictures into the store; what happened, in a few words."""
    checkpoint = runs_dir / row["config"]["paths"]["checkpoint_dir"] / LAST
    if not checkpoint.is_file():
        return f"skipped: no checkpoint at {checkpoint}"
    trained = checkpoint_epochs(checkpoint)
    if trained != row.get("epochs"):
        return (
            f"skipped: {checkpoint} holds epoch {trained}, the row's run ended at epoch "
            f"{row.get('epochs')} (a later run of the same key stopped early?)"
        )
    model, data = load_run(row, checkpoint, device, runs_dir)
    data.setup("test")
    first = data.test_set.batch(slice(0, 1)).images.to(device)
    with torch.no_grad():
        if model.reconstruction(first) is None:
            return f"skipped: {row['method']} has no reconstruction to draw"
    scores, labels = saved_scores(row, runs_dir) or rescored(model, data)
    with tempfile.TemporaryDirectory() as scratch:
        drawn = draw_example_pictures(
            model, data.test_set, scores, labels, Path(scratch) / PICTURES_FILE
        )
        return f"drawn: {store.keep_picture(row['run_key'], drawn)}"


def draw_missing_pictures(
    results_dir: Path,
    run_keys: list[str] | None = None,
    redraw: bool = False,
    runs_dir: Path | None = None,
) -> dict[str, str]:
    """{run key: what was done} for every finished run of the store (or of `run_keys`) without
    pictures (all of them with `redraw`); a row's relative paths (checkpoint, scores, data) start
    at `runs_dir`, the folder its run trained in (default: found from `results_dir` as predict
    finds it, `trained_in`)."""
    store = existing_store(results_dir)
    device = scoring_device(None)
    done = {}
    for row in runs_named(store, run_keys):
        key = row["run_key"]
        if store.picture_path(key).is_file() and not redraw:
            done[key] = "kept: already drawn"
        else:
            base = runs_dir or trained_in(Path(results_dir), row)
            done[key] = draw_for_row(store, row, device, base)
        log.info("%s: %s", key, done[key])
    return done
