"""The pieces of `make bench` (anomaly_bench/bench.py): what is timed, and how."""
