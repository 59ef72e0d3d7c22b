"""What the environment says about how to reach W&B, for the run's logger and the report alike."""

from __future__ import annotations

import os


def wandb_offline_by_default() -> bool:
    """Offline when no API key and no explicit WANDB_MODE: a run never waits on the network."""
    return not os.environ.get("WANDB_API_KEY") and "WANDB_MODE" not in os.environ
