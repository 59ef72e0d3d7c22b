"""`python -m anomaly_bench.train [OVERRIDES]`: one run (engine/run.py) per Hydra job."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from anomaly_bench.engine.run import train
from anomaly_bench.engine.runtime import quiet_console


@hydra.main(version_base="1.3", config_path="conf", config_name="train")
def main(cfg: DictConfig) -> float:
    """Hydra entry; returns AUROC so sweepers can optimise it."""
    quiet_console()
    return train(cfg)["auroc"]


if __name__ == "__main__":
    main()
