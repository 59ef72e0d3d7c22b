"""The results store as one pandas DataFrame: a line per `ok` run, the fields a table reads,
and the column (configuration) each run belongs to; and the one pivot every table is made from.

`configuration_digest` is the one the run stored when it was written; rows written before the
field existed get it computed here from their saved config, the way the tables group rows
(`configurations.column_of`), so old and new rows of one experiment share it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from anomaly_bench.reporting.configurations import column_of
from anomaly_bench.settings.protocols import row_class
from anomaly_bench.store.results import ResultsStore, latest_ok_rows

FIELDS = (
    "run_key", "method", "dataset", "protocol", "seed", "max_epochs", "auroc", "auprc", "gmean",
    "false_alarm_rate", "miss_rate", "n_train", "train_seconds", "test_seconds", "device",
    "git_commit",
)  # fmt: skip
# The cell of a table: one configuration (column) of one method on one class.
CELL = ["class", "column"]


def is_number(value: object) -> bool:
    """A finite int or float (not a boolean): what a table may average."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def rows_frame(rows: Iterable[dict], metrics: Iterable[str] = ()) -> pd.DataFrame:
    """The `ok` rows, a rerun's latest only (`latest_ok_rows`), one line each: FIELDS and the
    numeric `metrics` (of FIELDS or not; a value that is not a finite number reads NaN), `class`
    (the protocol's: normal, or anomalous under leave_one_out), `column` (the configuration's
    label in the tables; a smoke test's says so), `configuration_digest` and `warned` (the run
    ended with a warning, such as a collapsed memory)."""
    numbers = list(dict.fromkeys(metrics))
    lines = []
    for row in latest_ok_rows(rows, with_smoke=True):
        column = column_of(row)
        lines.append(
            {
                **{field: row.get(field) for field in FIELDS},
                **{m: row[m] if is_number(row.get(m)) else math.nan for m in numbers},
                "class": row_class(row),
                "column": column.label,
                "configuration_digest": row.get("configuration_digest") or column.digest,
                "warned": bool(row.get("warnings")),
            }
        )
    extra = [m for m in numbers if m not in FIELDS]
    names = [*FIELDS, *extra, *CELL, "configuration_digest", "warned"]
    return pd.DataFrame(lines, columns=names)


def load_frame(results_dir: str | Path) -> pd.DataFrame:
    """The store in `results_dir` as `rows_frame`."""
    return rows_frame(ResultsStore(results_dir).read())


def cell_stats(rows: Iterable[dict], metric: str) -> pd.DataFrame:
    """The pivot of every table: per (class, column), the metric's `mean`, its `std` over seeds
    (NaN with one seed), the number of `seeds` with the metric as a finite number, and `warned`
    (a run of the cell warned). A cell none of whose runs has the metric has `seeds` 0 and no
    mean: blank in a table, never zero.

    Rows are taken as given: filter them (dataset, protocol, budget) first.
    """
    frame = rows_frame(rows, [metric])
    frame[metric] = pd.to_numeric(frame[metric])
    return frame.groupby(CELL, dropna=False).agg(
        mean=(metric, "mean"),
        std=(metric, "std"),
        seeds=(metric, "count"),
        warned=("warned", "any"),
    )


def class_grid(stats: pd.DataFrame) -> pd.DataFrame:
    """Classes x columns of the cells' means (NaN where a cell has no run of the metric)."""
    return stats["mean"].unstack("column")
