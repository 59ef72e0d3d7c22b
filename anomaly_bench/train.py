"""`python -m anomaly_bench.train [OVERRIDES]`: one run (engine/run.py) per Hydra job.

The engine loads torch and Lightning (seconds), so it is imported in the job, once Hydra has
composed the config: `--help`, `--cfg job` and a mistyped override answer at once."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from anomaly_bench import CONF_DIR
from anomaly_bench.engine.errors import exit_with_one_line, wants_traceback


# An absolute path: the same configs whether this module runs as __main__, under the console
# command, or from an installed wheel.
@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
def main(cfg: DictConfig) -> float:
    """Hydra entry; returns AUROC so sweepers can optimise it. A failure is one line on the
    console (engine/errors.py) and exit status 1."""
    from anomaly_bench.engine.run import train
    from anomaly_bench.engine.runtime import quiet_console

    quiet_console()
    try:
        return train(cfg)["auroc"]
    except Exception as err:
        if wants_traceback():
            raise
        exit_with_one_line(err)


if __name__ == "__main__":
    main()
