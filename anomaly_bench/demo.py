"""`make demo`: several detectors compared on scikit-learn's bundled digits, offline, in minutes.

A small grid (each method at a demo budget, every normal class, paper protocol, seed 0) runs
in this process through the same `train()` as any run, so its rows land in a results store like
any grid's. One line per run says where the grid is and what it found; Lightning's per-run
banners are kept off the console. Then the comparison: the per-class table with its mean row,
mean ranks with the Friedman test and the critical-difference diagram when enough classes are
in, and where the files are.
"""

from __future__ import annotations

import contextlib
import io
import logging
import time
import warnings
from pathlib import Path

import pandas as pd
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

from anomaly_bench import CONF_DIR
from anomaly_bench.engine.run import train
from anomaly_bench.engine.runtime import quiet_console
from anomaly_bench.evaluation.plots import save_per_class_comparison
from anomaly_bench.reporting.frame import cell_stats, class_grid
from anomaly_bench.reporting.significance import mean_ranks_text, significance_with_diagram
from anomaly_bench.reporting.tables import report
from anomaly_bench.settings.checks import COUNT_ARG
from anomaly_bench.settings.command_line import verb_parser
from anomaly_bench.settings.method_facts import demo_budgets, method_ids
from anomaly_bench.store.results import ResultsStore

# Each method's demo budget on digits: small, stated, and one override away (--epochs).
# GANomaly and Mem_GANomaly need about 10 epochs of digits (about 20 steps) to rank well: at 5
# they rank anomalies below normals; at 10 they reach 0.84-0.99 (classes 2 and 8, measured).
# The budget of a method named with --models whose yaml states no demo_epochs.
DEFAULT_DEMO_EPOCHS = 5
QUIET_LOGGERS = ("lightning", "lightning.pytorch", "lightning.fabric", "anomaly_bench")


def demo_config(model: str, normal_class: int, epochs: int, results: Path) -> DictConfig:
    """One run's config, composed as the CLI would, with its outputs under `results`."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(version_base="1.3", config_dir=str(CONF_DIR)):
        cfg = compose(
            "train",
            overrides=[
                f"model={model}",
                "data=digits",
                f"data.normal_class={normal_class}",
                f"trainer.max_epochs={epochs}",
                "trainer.enable_progress_bar=false",
                f"paths.results_dir={results}",
                f"paths.log_dir={results / 'logs'}",
            ],
            return_hydra_config=True,
        )
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(results / "runs" / f"{model}_class{normal_class}")
        del cfg.hydra
    return cfg


def quiet() -> None:
    """Per-run banners (device lines, tips, summaries) and known noise off the console: the
    demo's own line per run says what matters."""
    quiet_console()
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", message=".*contains no parameters.*")


def run_grid(models: list[str], classes: list[int], results: Path, epochs: dict[str, int]) -> None:
    total, number = len(models) * len(classes), 0
    for model in models:
        for normal_class in classes:
            number += 1
            started = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()):  # Lightning's per-run test table
                row = train(demo_config(model, normal_class, epochs[model], results))
            seconds = time.perf_counter() - started
            print(
                f"run {number}/{total}: {model}, digits class {normal_class}: "
                f"AUROC {row['auroc']:.3f} ({seconds:.0f} s)",
                flush=True,
            )


def comparison(results: Path) -> str:
    """The table, the ranks and the figures, and where the files are."""
    rows = [r for r in ResultsStore(results).read() if r.get("dataset") == "digits"]
    folder = results / "report"
    folder.mkdir(parents=True, exist_ok=True)
    table = report(results)
    (folder / "demo.md").write_text(table + "\n")
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


def main() -> None:
    parser = verb_parser(__doc__)
    parser.add_argument(
        "--models",
        default=",".join(demo_budgets()),
        help="comma-separated ids (default: the methods whose yaml states demo_epochs)",
    )
    parser.add_argument(
        "--classes", default="0,1,2,3,4,5,6,7,8,9", help="comma-separated digits classes"
    )
    parser.add_argument(
        "--results", type=Path, default=Path("results/demo"), help="the demo's results store"
    )
    parser.add_argument(
        "--epochs",
        type=COUNT_ARG,
        help="every method's epochs (default: each method's demo budget)",
    )
    args = parser.parse_args()
    models = args.models.split(",")
    unknown = sorted(set(models) - set(method_ids()))
    if unknown:
        parser.error(
            f"--models {','.join(unknown)} is not allowed; allowed: model ids of conf/model"
        )
    epochs = {m: args.epochs or demo_budgets().get(m, DEFAULT_DEMO_EPOCHS) for m in models}
    budget = ", ".join(f"{m} {e} epoch{'s' if e > 1 else ''}" for m, e in epochs.items())
    print(f"demo: {len(models)} methods x {len(args.classes.split(','))} digits classes ({budget})")
    quiet()
    started = time.perf_counter()
    run_grid(models, [int(c) for c in args.classes.split(",")], args.results, epochs)
    print(f"\n{time.perf_counter() - started:.0f} s for the grid\n")
    print(comparison(args.results))


if __name__ == "__main__":
    main()
