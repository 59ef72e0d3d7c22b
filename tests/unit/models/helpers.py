"""Tiny models and a short fit, shared by the model tests."""

import lightning as L
import torch

from anomaly_bench.data import OneClassDataModule

SIZE = 16


def synthetic_data() -> OneClassDataModule:
    return OneClassDataModule("synthetic", image_size=SIZE, batch_size=16)


def quiet_trainer(**kwargs) -> L.Trainer:
    """A Trainer that writes nothing (no logs, no checkpoints) and prints little, unless a
    test asks for a logger or a progress bar by name."""
    quiet = {
        "logger": False,
        "enable_checkpointing": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
    }
    return L.Trainer(**(quiet | kwargs))


def fit(model: L.LightningModule, epochs: int) -> None:
    """Train by epochs: global_step counts every optimiser's steps, which differ per model."""
    quiet_trainer(max_epochs=epochs, limit_val_batches=0).fit(model, datamodule=synthetic_data())


def score_test_split(model: L.LightningModule) -> tuple[torch.Tensor, torch.Tensor]:
    """(scores, labels) of the whole synthetic test split, in eval mode, as one batch."""
    data = synthetic_data()
    data.setup()
    batch = data.test_set.batch(slice(None))
    model.eval()
    with torch.no_grad():
        return model.anomaly_score(batch.images), batch.labels
