"""The demo's comparison (`anomaly-bench demo`): the per-class table with its mean row, mean
ranks with the Friedman test and the critical-difference diagram when enough classes are in, and
where the files are."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from anomaly_bench.evaluation.plots import save_per_class_comparison
from anomaly_bench.reporting.frame import cell_stats, class_grid
from anomaly_bench.reporting.significance import mean_ranks_text, significance_with_diagram
from anomaly_bench.reporting.tables import report
from anomaly_bench.settings.whole_files import write_whole
from anomaly_bench.store.results import ResultsStore


def comparison(results: Path) -> str:
    """The table, the ranks and the figures, and where the files are."""
    rows = [r for r in ResultsStore(results).read() if r.get("dataset") == "digits"]
    folder = results / "report"
    folder.mkdir(parents=True, exist_ok=True)
    table = report(results)
    write_whole(folder / "demo.md", table + "\n")
    grid = class_grid(cell_stats(rows, "auroc"))
    columns = list(grid.columns)
    ours = {c: [None if pd.isna(v) else float(v) for v in grid[c]] for c in columns}
    figure = save_per_class_comparison(
        [str(c) for c in grid.index],
        ours,
        {},
        {c: c for c in columns},
        "AUROC",
        folder / "demo.png",
    )
    lines = [table, ""]
    tested = significance_with_diagram(grid, columns, "digits demo", folder / "demo_cd.png")
    if tested is None:
        lines.append("no critical-difference diagram: it needs >= 3 methods on >= 3 classes")
        diagram = None
    else:
        result, diagram = tested
        lines.append(
            f"mean rank (1 = best) over classes {result.classes}: "
            f"{mean_ranks_text(result)}; Friedman p = {result.friedman_p:.3g}"
        )
    example = next((r for r in rows if r.get("status") == "ok"), None)
    lines += ["", f"table: {folder / 'demo.md'}", f"per-class figure: {figure}"]
    if diagram is not None:
        lines.append(f"critical-difference diagram: {diagram}")
    if example is not None:
        run = Path(example["output_dir"])
        lines.append(f"one run's ROC curve and score histogram: {run / 'roc.png'}, "
                     f"{run / 'score_histogram.png'}")  # fmt: skip
    lines.append(f"rows: {ResultsStore(results).path}")
    return "\n".join(lines)
