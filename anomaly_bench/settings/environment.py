"""What the environment says: how to reach W&B (for the run's logger and the report alike), and
where a user's own configs are (for every verb that composes or rebuilds a run)."""

from __future__ import annotations

import os
from pathlib import Path

CONFIGS_VARIABLE = "ANOMALY_BENCH_CONFIGS"


def wandb_offline_by_default() -> bool:
    """Offline when no API key and no explicit WANDB_MODE: a run never waits on the network."""
    return not os.environ.get("WANDB_API_KEY") and "WANDB_MODE" not in os.environ


def own_configs() -> Path | None:
    """The folder of one's own configs (`ANOMALY_BENCH_CONFIGS`), laid out as the package's conf/
    (`model/<id>.yaml`, ...): a detector of one's own joins the package's without a copy of it.
    Set by whoever runs a verb, never read from a results folder, so the classes its yamls name
    are the ones that person trusts."""
    given = os.environ.get(CONFIGS_VARIABLE)
    if not given:
        return None
    folder = Path(given).expanduser().resolve()
    if not folder.is_dir():
        raise ValueError(
            f"{CONFIGS_VARIABLE}={given!r} is not a folder; allowed: a folder of configs laid "
            "out as the package's conf/ (model/<id>.yaml, data/<name>.yaml)"
        )
    return folder
