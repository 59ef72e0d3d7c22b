"""`python -m anomaly_bench.report`: the tables of a results store (anomaly_bench/reporting)."""

from anomaly_bench.reporting.tables import main

if __name__ == "__main__":
    main()
