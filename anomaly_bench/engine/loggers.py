"""Logger factories the configs instantiate."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence

from lightning.pytorch.loggers import WandbLogger

from anomaly_bench.settings.environment import wandb_offline_by_default


def wandb_logger(
    project: str,
    group: str,
    name: str,
    save_dir: str,
    tags: Sequence[str] = (),
    labels: Mapping[str, object] | None = None,
    offline: bool | None = None,
) -> WandbLogger:
    """A W&B logger grouped `<dataset>/<model>`; offline runs can be uploaded with `wandb sync`.

    `labels` become `key:value` tags (table grids add their own tag, e.g. `table1`), so a W&B
    workspace can filter and group by protocol or seed.
    """
    return WandbLogger(
        project=project,
        group=group,
        name=name,
        save_dir=save_dir,
        tags=[*tags, *(f"{key}:{value}" for key, value in (labels or {}).items())],
        offline=wandb_offline_by_default() if offline is None else offline,
    )


def finish_wandb() -> None:
    """Close the live W&B run so the next job of a multirun starts its own (DESIGN.md, traps).

    Looks wandb up among loaded modules: a run that never used W&B does not pay for importing it.
    """
    wandb = sys.modules.get("wandb")
    if wandb is not None and wandb.run is not None:
        wandb.finish()
