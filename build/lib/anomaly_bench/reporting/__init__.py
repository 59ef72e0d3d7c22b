"""Results store -> tables beside the papers: never trains.

`configurations` groups rows into one column per configuration of a method; `comparison` puts
them beside a published table; `tables` prints a store's tables (`python -m anomaly_bench.report`)
and the paper comparisons with their files; `significance` ranks methods over classes; `curves`
reads learning curves; `paper_tables` loads the published numbers from `conf/paper/`;
`results_page` writes the project's reference results (`docs/results/`).
"""
