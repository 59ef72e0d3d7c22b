"""anomaly-bench: GAN-based image anomaly detectors trained and compared under one protocol."""

from pathlib import Path

__version__ = "0.1.0"

# The Hydra configs, shipped inside the package so an installed wheel finds them.
CONF_DIR = Path(__file__).resolve().parent / "conf"
# The project's reference runs (their rows, as committed) and the pages made from them: the
# checkout's docs/results (a development tool: an installed wheel has no docs/).
REFERENCE_RESULTS = CONF_DIR.parents[1] / "docs" / "results"

from anomaly_bench.store.resolvers import register_resolvers  # noqa: E402

register_resolvers()
