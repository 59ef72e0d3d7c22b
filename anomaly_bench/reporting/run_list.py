"""The finished runs of a results store, one line each (`anomaly-bench report --runs`): the run
keys that `predict` and `pictures` take, beside what each run is (a folder run's dataset names
its folders, as its table's title does) and what it scored."""

from __future__ import annotations

from collections.abc import Iterable

from anomaly_bench.reporting.comparison import markdown_grid
from anomaly_bench.reporting.configurations import table_dataset
from anomaly_bench.settings.protocols import class_words
from anomaly_bench.store.results import is_smoke

# Training images tell apart two runs of one cell on different shares of the data (Table 3's
# fifth of CIFAR-10 beside the full data).
COLUMNS = [
    "run key", "method", "dataset", "class", "seed", "epochs", "training images", "AUROC",
    "threshold",
]  # fmt: skip


def number(value: object) -> str:
    """A figure to four significant digits; `none` where the run has none (no held-out normals)."""
    return f"{value:.4g}" if isinstance(value, int | float) else "none"


def run_list(rows: Iterable[dict]) -> str:
    """Each run's latest `ok` row, by key; a smoke test's says so, since it never counts as done
    nor in a table."""
    latest = {row["run_key"]: row for row in rows if row.get("status") == "ok"}
    finished = [latest[key] for key in sorted(latest)]
    if not finished:
        return "no finished run"
    lines = [
        [
            row["run_key"] + (" (smoke test)" if is_smoke(row) else ""),
            str(row.get("method", "")),
            table_dataset(row) if "dataset" in row else "",
            class_words(row),
            str(row.get("seed", "")),
            str(row.get("epochs", "")),
            str(row.get("n_train", "")),
            number(row.get("auroc")),
            number(row.get("val_threshold")),
        ]
        for row in finished
    ]
    return "\n".join([f"### {len(finished)} finished run(s)", "", *markdown_grid(COLUMNS, lines)])
