"""anomaly-bench: GAN-based image anomaly detectors trained and compared under one protocol."""

from pathlib import Path

__version__ = "0.1.0"

# The Hydra configs (conf/), for the modules that read them outside `python -m anomaly_bench.train`.
CONF_DIR = Path(__file__).resolve().parent.parent / "conf"

from anomaly_bench.resolvers import register_resolvers  # noqa: E402

register_resolvers()
