"""The pieces of `make bench` (run by anomaly_bench/benchmarks/suite.py): what is timed, and how."""
