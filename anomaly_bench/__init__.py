"""anomaly-bench: GAN-based image anomaly detectors trained and compared under one protocol."""

__version__ = "0.1.0"
