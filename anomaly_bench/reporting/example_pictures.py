"""The report's pictures: for each column of a table whose runs drew example pictures, the strip
of each class (`evaluation/example_pictures.py`), linked from where the store keeps them.

Only files are read here (whether a run's strip exists), never a model: a run of a method that
reconstructs draws its strip when it finishes, and `anomaly-bench pictures` draws them later for
runs whose checkpoints are at hand.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from anomaly_bench.reporting.comparison import class_label, markdown_grid
from anomaly_bench.reporting.configurations import columns
from anomaly_bench.reporting.paper_tables import PaperTable
from anomaly_bench.settings.protocols import class_heading, row_class
from anomaly_bench.store.results import ResultsStore

INTRO = (
    "Per run, the normal and the anomalous test image the method scored lowest and highest, each "
    "beside its reconstruction and anomaly map (|x - G(x)| in colour over the image, one fixed "
    "scale: blue 0, red 1 or more). A normal image scored highest is the method's likeliest "
    "false alarm, an anomaly scored lowest its likeliest miss. Drawn from the last epoch's "
    "weights (the headline) when a run finishes, or later by `anomaly-bench pictures "
    "--results-dir DIR` for runs whose checkpoint is at hand; a run without either has none here."
)


def pictures_markdown(
    rows: Iterable[dict], table: PaperTable, store: ResultsStore, page: Path
) -> str | None:
    """The pictures section of a table's page written at `page`; None when no run drew any."""
    sections = []
    for column, members in columns(rows).items():
        found = {}
        for row in sorted(members, key=lambda r: (row_class(r), r.get("seed", 0))):
            if "run_key" not in row:
                continue
            picture = store.picture_path(row["run_key"])
            label = class_label(table, row_class(row))
            if picture.is_file() and label not in found:
                found[label] = os.path.relpath(picture, page.parent)
        if found:
            body = [[label, f"![{column.label}, {label}]({link})"] for label, link in found.items()]
            sections.append(
                "\n".join(
                    [
                        f"### {column.label}",
                        "",
                        *markdown_grid([class_heading(table.protocol), "pictures"], body),
                    ]
                )
            )
    if not sections:
        return None
    return "\n\n".join(["## What each method keys on", INTRO, *sections])
