"""Results store -> tables (the command line is `anomaly_bench/report.py`). Never trains.

Without `--table`: one table per (dataset, protocol), a folder of one's own images a dataset of
its own: rows are normal classes plus their mean, columns are method configurations
(configurations.py), each cell the mean (and std over seeds, when there are several) of a metric
over `ok` rows (a rerun's latest only), from the one pivot `frame.cell_stats`. With `--table N`:
our runs beside the paper's Table N (comparison.py), also written as markdown, CSV, LaTeX and a
per-class PNG; with learning curves in the rows, the last-epoch vs best-epoch table, and with
`--curves` their figures. `--where KEY=VALUE` narrows the rows first. Missing runs are blank,
never zero.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from anomaly_bench.evaluation.plots import save_per_class_comparison
from anomaly_bench.reporting.claim import claim_markdown
from anomaly_bench.reporting.comparison import (
    WARNED_NOTE,
    Comparison,
    cell_of,
    class_row_labels,
    format_cell,
    frame_grid,
    long_frame,
    markdown_grid,
    per_class_comparison,
    rates_comparison,
    table_rows,
    to_csv,
    to_latex,
    to_markdown,
)
from anomaly_bench.reporting.configurations import table_dataset, where
from anomaly_bench.reporting.curves import curve_markdown, save_curve_figures
from anomaly_bench.reporting.example_pictures import pictures_markdown
from anomaly_bench.reporting.frame import cell_stats, class_grid
from anomaly_bench.reporting.late_spread import late_spread_markdown
from anomaly_bench.reporting.paper_tables import PaperTable, load_paper_table
from anomaly_bench.reporting.significance import (
    SIGNIFICANT,
    mean_ranks_text,
    significance_with_diagram,
    significant_pairs_text,
)
from anomaly_bench.reporting.wall_time import wall_time_line
from anomaly_bench.settings.environment import wandb_offline_by_default
from anomaly_bench.settings.protocols import class_heading, class_words
from anomaly_bench.settings.whole_files import write_whole
from anomaly_bench.store.results import ResultsStore


def metric_tables(rows: Iterable[dict], metric: str) -> dict[tuple[str, str], pd.DataFrame]:
    """{(dataset, protocol): `cell_stats` of its ok rows} for every table with a run of the
    metric (a folder of one's own images is a dataset of its own, `table_dataset`); a column is
    one configuration of one method."""
    by_table: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for row in rows:
        if row.get("status") == "ok":
            by_table[(table_dataset(row), row["protocol"])].append(row)
    tables = {}
    for key, kept in by_table.items():
        stats = cell_stats(kept, metric)
        if stats["seeds"].any():
            tables[key] = stats[stats["seeds"] > 0]
    return tables


def markdown(stats: pd.DataFrame, title: str, heading: str = "class") -> str:
    """A markdown table with a mean row (the mean of each method's class means, where complete);
    `heading` names the class column (`class_heading` of the protocol)."""
    grid = class_grid(stats)
    text = pd.DataFrame(
        {
            column: [format_cell(cell_of(stats, c, column, None)) for c in grid.index]
            for column in grid
        },
        index=grid.index,
    )
    complete = grid.columns[grid.notna().all()]
    text.loc["mean"] = ""
    text.loc["mean", complete] = [f"{value:.4f}" for value in grid[complete].mean()]
    note = ["", WARNED_NOTE] if stats["warned"].any() else []
    return "\n".join([f"### {title}", "", *frame_grid(text, heading), *note])


def read_rows(results_dir: Path, conditions: list[tuple[str, str]] = ()) -> list[dict]:
    """The store's rows that satisfy every `--where` condition; a filter that keeps none of
    them is an error that says so."""
    rows = ResultsStore(results_dir).read()
    kept = where(rows, list(conditions))
    if rows and not kept:
        wanted = " ".join(f"--where {key}={value}" for key, value in conditions)
        raise ValueError(f"{wanted} kept none of the {len(rows)} rows in {results_dir}")
    return kept


def failed_runs(rows: list[dict]) -> str | None:
    """The failed runs with their errors, those a later run of the same key finished left out
    (a terminated run that was resumed); None when there are none."""
    finished = {row["run_key"] for row in rows if row.get("status") == "ok" and row.get("run_key")}
    failed = [r for r in rows if r.get("status") == "failed" and r.get("run_key") not in finished]
    if not failed:
        return None
    body = [
        [
            str(r.get("method", "")),
            str(r.get("dataset", "")),
            class_words(r),
            str(r.get("seed", "")),
            str(r.get("error", "")).replace("|", "/").replace("\n", " ")[:300],
        ]
        for r in failed
    ]
    grid = markdown_grid(["method", "dataset", "class", "seed", "error"], body)
    return "\n".join([f"#### {len(failed)} failed run(s), not finished since", "", *grid])


def report(results_dir: Path, metric: str = "auroc", conditions: list[tuple[str, str]] = ()) -> str:
    rows = read_rows(results_dir, conditions)
    sections = [
        markdown(table, f"{metric} — {dataset}, {protocol} protocol", class_heading(protocol))
        for (dataset, protocol), table in sorted(metric_tables(rows, metric).items())
    ]
    if not sections:
        sections.append(
            f"no ok rows with {metric!r} as a number in {ResultsStore(results_dir).path}"
        )
    failures = failed_runs(rows)
    if failures:
        sections.append(failures)
    return "\n\n".join(sections)


def log_to_wandb(comparison: Comparison, number: int, files: list[Path], project: str) -> str:
    """The comparison as a `wandb.Table` and its figure, in a `report` run of the project.

    Offline (a folder `wandb sync` uploads later) unless WANDB_API_KEY or WANDB_MODE is set.
    """
    import wandb

    run = wandb.init(
        project=project,
        job_type="report",
        name=f"table{number}-report",
        tags=[f"table{number}", "report"],
        mode="offline" if wandb_offline_by_default() else None,
        dir=str(files[0].parent),
    )
    try:
        run.log({f"table{number}/comparison": wandb.Table(dataframe=long_frame(comparison))})
        for path in files:
            if path.suffix == ".png":
                figure = path.stem.removeprefix(f"table{number}").lstrip("_") or "per_class"
                run.log({f"table{number}/{figure}": wandb.Image(str(path))})
        return run.dir
    finally:
        run.finish()


def significance_outputs(
    rows: list[dict], table: PaperTable, methods: list[str], stem: Path
) -> tuple[str, list[Path]]:
    """Friedman + Nemenyi over the complete classes, and the CD diagram, when there is enough."""
    grid = class_grid(cell_stats(table_rows(rows, table), "auroc"))
    tested = significance_with_diagram(
        grid, methods, f"Table {table.number}", stem.with_name(f"{stem.name}_cd.png")
    )
    if tested is None:
        return (
            "no critical-difference diagram: it needs >= 3 methods run on the same >= 3 classes",
            [],
        )
    result, diagram = tested
    ran = [c for c in methods if c in grid.columns and grid[c].notna().any()]
    left_out = [c for c in ran if c not in result.mean_ranks.index]
    text = (
        f"Friedman test over classes {result.classes} (each method's mean over its seeds): "
        f"p = {result.friedman_p:.3g}; mean rank (1 = best): {mean_ranks_text(result)}. "
        f"Nemenyi pairs with p < {SIGNIFICANT}: {significant_pairs_text(result)}; all p-values: "
        f"the CD diagram {diagram.name}."
        + (f" Not ranked (classes still to run): {', '.join(left_out)}." if left_out else "")
    )
    return text, [diagram]


def per_class_outputs(
    rows: list[dict], table: PaperTable, comparison: Comparison, stem: Path
) -> tuple[str, list[Path]]:
    """Tables 1-3: the per-class figure (ours vs paper) and the significance of our gaps."""
    labels = class_row_labels(comparison, table)
    ours = {c: [comparison.cells[(label, c)].ours for label in labels] for c in comparison.columns}
    ours = {c: v for c, v in ours.items() if any(x is not None for x in v)}
    figure = save_per_class_comparison(
        labels, ours, table.values["auroc"], comparison.method_of, "AUROC", stem.with_suffix(".png")
    )
    text, diagrams = significance_outputs(rows, table, comparison.columns, stem)
    return text, [figure, *diagrams]


def paper_report(
    results_dir: Path,
    number: int,
    output_dir: Path,
    wandb_project: str | None = None,
    conditions: list[tuple[str, str]] = (),
    curves: bool = False,
) -> str:
    """Our runs beside the paper's Table `number`; also written as .md, .csv, .tex and .png,
    with the learning-curve figures when `curves`, and logged to W&B when `wandb_project` is
    given."""
    table = load_paper_table(number)
    rows = read_rows(results_dir, conditions)
    if number == 4:
        comparison = rates_comparison(rows, table)
    else:
        comparison = per_class_comparison(rows, table, "auroc")
    text = to_markdown(comparison)
    kept = table_rows(rows, table)  # the latest `ok` row of each run
    if wall_time := wall_time_line(kept):
        text += "\n\n" + wall_time
    failures = failed_runs(
        [
            r
            for r in rows
            if (r.get("dataset"), r.get("protocol")) == (table.dataset, table.protocol)
        ]
    )
    if failures:
        text += "\n\n" + failures
    output_dir.mkdir(parents=True, exist_ok=True)
    stem = output_dir / f"table{number}"
    if number != 4:
        extras = (
            curve_markdown(rows, table),
            late_spread_markdown(rows, table),
            claim_markdown(rows, table),
            pictures_markdown(kept, table, ResultsStore(results_dir), stem.with_suffix(".md")),
        )
        text += "".join("\n\n" + extra for extra in extras if extra)
    write_whole(stem.with_suffix(".md"), text + "\n")
    write_whole(stem.with_suffix(".csv"), to_csv(comparison))
    write_whole(stem.with_suffix(".tex"), to_latex(comparison))
    files = [stem.with_suffix(suffix) for suffix in (".md", ".csv", ".tex")]
    if number != 4:
        extra_text, figures = per_class_outputs(rows, table, comparison, stem)
        text += "\n\n" + extra_text
        files += figures
    if curves:
        drawn = save_curve_figures(rows, table, stem)
        files += drawn
        if not drawn:
            text += "\n\nno learning curves in these rows (callbacks.learning_curve.every_n_epochs)"
    text += "\n\nwritten: " + ", ".join(str(path) for path in files)
    if wandb_project:
        text += "\nW&B report run: " + log_to_wandb(comparison, number, files, wandb_project)
    return text
