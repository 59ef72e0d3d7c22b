"""The results store as one pandas DataFrame: a line per `ok` run, the fields a table reads,
and the column (configuration) each run belongs to, for analysis in a notebook or a script.

`configuration_digest` is the one the run stored when it was written; rows written before the
field existed get it computed here from their saved config, the way the tables group rows
(`configurations.column_of`), so old and new rows of one experiment share it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from anomaly_bench.reporting.configurations import column_of
from anomaly_bench.settings.protocols import class_key
from anomaly_bench.store.results import ResultsStore, latest_ok_rows

FIELDS = (
    "run_key", "method", "dataset", "protocol", "seed", "max_epochs", "auroc", "auprc", "gmean",
    "false_alarm_rate", "miss_rate", "n_train", "train_seconds", "test_seconds", "device",
    "git_commit",
)  # fmt: skip


def rows_frame(rows: Iterable[dict]) -> pd.DataFrame:
    """The `ok` rows, a rerun's latest only (`latest_ok_rows`), one line each: FIELDS, `class`
    (the protocol's: normal, or anomalous under leave_one_out), `column` (the configuration's
    label in the tables; a smoke test's says so) and `configuration_digest`."""
    lines = []
    for row in latest_ok_rows(rows, with_smoke=True):
        column = column_of(row)
        lines.append(
            {
                **{field: row.get(field) for field in FIELDS},
                "class": row.get(class_key(row["protocol"])),
                "column": column.label,
                "configuration_digest": row.get("configuration_digest") or column.digest,
            }
        )
    return pd.DataFrame(lines, columns=[*FIELDS, "class", "column", "configuration_digest"])


def load_frame(results_dir: str | Path) -> pd.DataFrame:
    """The store in `results_dir` as `rows_frame`."""
    return rows_frame(ResultsStore(results_dir).read())
