"""What makes two runs the same run: the key that finds a run's checkpoint and its `ok` row.

A rerun with the same method, data, seed and budget resumes from the first one's `last.ckpt`
(a killed run loses at most an epoch) and, with `skip_done=true`, is skipped once an `ok` row
carries its key. Anything that changes what is trained changes the key: the whole model config,
the data config (except where the files are), the seed, the epoch budget, any training-batch
limit and test-set epoch selection. Logging, progress bars and output folders do not.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from omegaconf import DictConfig, OmegaConf

DIGEST_CHARS = 10


def method_id(cfg: DictConfig) -> str:
    """The configured model's snake_case id: its module's name (`...models.ganomaly.Ganomaly`)."""
    return str(cfg.model._target_).rsplit(".", 2)[-2]


def run_identity(cfg: DictConfig) -> dict[str, Any]:
    data = OmegaConf.to_container(cfg.data, resolve=True)
    data.pop("data_dir", None)
    return {
        "model": OmegaConf.to_container(cfg.model, resolve=True),
        "data": data,
        "seed": cfg.seed,
        "max_epochs": cfg.trainer.get("max_epochs"),
        "limit_train_batches": cfg.trainer.get("limit_train_batches"),
        "select_epoch_on_test": cfg.get("select_epoch_on_test", False),
    }


def run_key(cfg: DictConfig) -> str:
    """`<method>_<dataset>_class<k>_<protocol>_seed<s>_<digest of run_identity>`."""
    text = json.dumps(run_identity(cfg), sort_keys=True, default=str)
    digest = hashlib.sha256(text.encode()).hexdigest()[:DIGEST_CHARS]
    data = cfg.data
    return (
        f"{method_id(cfg)}_{data.dataset}_class{data.normal_class}_{data.protocol}"
        f"_seed{cfg.seed}_{digest}"
    )
