"""anomaly-bench: GAN-based image anomaly detectors trained and compared under one protocol."""

__version__ = "0.1.0"

from anomaly_bench.resolvers import register_resolvers

register_resolvers()
