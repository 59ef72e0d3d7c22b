"""A trained memory's readout: how many memory slots it reads for normal and for anomalous test
images (the Mem_GANomaly mechanism), from a run's folder (`anomaly-bench memory-sparsity`)."""

from __future__ import annotations

from pathlib import Path

import torch
from hydra.utils import get_class
from omegaconf import OmegaConf

from anomaly_bench.data import OneClassDataModule
from anomaly_bench.engine.callbacks.last_checkpoint import LAST
from anomaly_bench.engine.runtime import instantiate
from anomaly_bench.engine.trained_model import load_trained
from anomaly_bench.models.components.memory import nonzero_weights
from anomaly_bench.settings.trusted_targets import check_targets


@torch.inference_mode()
def sparsity_by_label(model: torch.nn.Module, data: OneClassDataModule) -> dict[str, float]:
    """Mean non-zero weights for normal (label 0) and anomalous (label 1) test images."""
    counts, labels = [], []
    for batch in data.test_dataloader():
        counts.append(nonzero_weights(model.memory_readout(batch.images)))
        labels.append(batch.labels)
    count, label = torch.cat(counts), torch.cat(labels)
    return {
        "normal": count[label == 0].mean().item(),
        "anomalous": count[label == 1].mean().item(),
        "memory_size": float(model.memory.memory.shape[0]),
    }


def load_run(run_dir: Path) -> tuple[torch.nn.Module, OneClassDataModule]:
    """The run's model and data, rebuilt from its saved config once every target they name is
    one of the package's own (`trusted_targets`)."""
    saved = run_dir / ".hydra" / "config.yaml"
    cfg = OmegaConf.load(saved)
    check_targets({"model": cfg.model, "data": cfg.data}, str(saved))
    checkpoint = Path(cfg.paths.checkpoint_dir) / LAST
    if not checkpoint.exists():
        raise FileNotFoundError(
            f"no checkpoint at {checkpoint} for {run_dir}: run this from the folder the run was "
            "trained in (paths.log_dir is relative to it), after at least one epoch"
        )
    model_class = get_class(cfg.model._target_)
    if not hasattr(model_class, "memory_readout"):
        raise ValueError(f"{cfg.model._target_} has no memory; allowed: memae, mem_ganomaly")
    data = instantiate(cfg.data)
    data.setup("test")
    return load_trained(cfg.model, data, checkpoint), data
