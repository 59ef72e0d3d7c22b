"""`python -m anomaly_bench.bench [options] [HYDRA_OVERRIDES ...]`: every method's speed, the
input paths, the latent search and the grids' hours (anomaly_bench/benchmarks/suite.py)."""

from anomaly_bench.benchmarks.suite import main

if __name__ == "__main__":
    main()
