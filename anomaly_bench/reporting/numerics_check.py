"""Does a faster arithmetic move results? Each run in strict float32 beside the run of the same
method, configuration, class, seed and device under another arithmetic (the GPU default's TF32
convolutions, bf16), with the difference held against the seed-to-seed spread.

A GPU default may only be chosen for speed if it does not: the GPU queue runs GANomaly's and
Mem_GANomaly's classes 0 and 1 at two seeds both ways (`conf/queue/gpu.yaml`, steps
`float32_check` and `default_check_seed1`), and `make results-page` writes this comparison to
docs/results/numerics_check.md.

    python -m anomaly_bench.reporting.numerics_check --results-dir docs/results
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from anomaly_bench.reporting.comparison import markdown_grid
from anomaly_bench.reporting.configurations import IDENTITY_PARTS
from anomaly_bench.reporting.frame import is_number
from anomaly_bench.settings.command_line import verb_parser
from anomaly_bench.settings.protocols import row_class
from anomaly_bench.store.results import ResultsStore, latest_ok_rows
from anomaly_bench.store.row_upgrades import config_today
from anomaly_bench.store.run_identity import NUMERICS_KEYS, configuration, digest, numerics

# The reference every other arithmetic is compared with: float32 products everywhere.
STRICT_FLOAT32 = {"tf32": False}
STRICT_LABEL = "strict float32"
# What must match for two runs to differ by arithmetic alone; `configuration` is the digest of
# the run's configuration less its arithmetic.
EXPERIMENT = ["method", "dataset", "configuration", "device"]
PLACE = [*EXPERIMENT, "class", "seed"]


def arithmetic_label(found: Mapping[str, Any]) -> str:
    """How a run's arithmetic reads on the page (`numerics` of its config)."""
    if not found:
        return "default (torch's TF32 defaults)"
    if dict(found) == STRICT_FLOAT32:
        return STRICT_LABEL
    return ", ".join(f"{key} {value}" for key, value in sorted(found.items()))


def runs(rows: Iterable[dict], metric: str = "auroc") -> pd.DataFrame:
    """The `ok` runs with a saved config and the metric: where each ran (PLACE), its
    arithmetic and the metric's value."""
    lines = []
    for row in latest_ok_rows(rows):
        saved, value = config_today(row), row.get(metric)
        if not saved or not saved.keys() >= IDENTITY_PARTS or not is_number(value):
            continue
        rest = {k: v for k, v in configuration(saved).items() if k not in NUMERICS_KEYS}
        lines.append(
            {"method": row["method"], "dataset": row.get("dataset"), "configuration": digest(rest),
             "device": row.get("device"), "class": row_class(row), "seed": row.get("seed"),
             "arithmetic": arithmetic_label(numerics(saved)), "value": value}
        )  # fmt: skip
    return pd.DataFrame(lines, columns=[*PLACE, "arithmetic", "value"])


def pairs(found: pd.DataFrame) -> pd.DataFrame:
    """One line per run under another arithmetic that has a strict float32 twin: both values
    and the difference (other less float32)."""
    strict = found[found.arithmetic == STRICT_LABEL].rename(columns={"value": "float32"})
    other = found[found.arithmetic != STRICT_LABEL].rename(columns={"value": "other"})
    both = other.merge(strict.drop(columns="arithmetic"), on=PLACE)
    return both.assign(difference=both.other - both.float32)


def seed_spread(found: pd.DataFrame) -> pd.Series:
    """Per experiment (EXPERIMENT), the strict float32 runs' standard deviation over seeds per
    class, averaged over the classes that have two seeds or more (absent where none has)."""
    strict = found[found.arithmetic == STRICT_LABEL]
    per_class = strict.groupby([*EXPERIMENT, "class"])["value"].std().dropna()
    return per_class.groupby(EXPERIMENT).mean()


def summary(found: pd.DataFrame) -> pd.DataFrame:
    """Per experiment and arithmetic: pairs, mean and largest |difference|, the seed-to-seed
    spread, and whether every difference lies inside it (None without a spread)."""
    spread = seed_spread(found)
    lines = []
    for key, group in pairs(found).groupby([*EXPERIMENT, "arithmetic"], sort=True):
        std = float(spread.get(key[:-1], math.nan))
        largest = float(group["difference"].abs().max())
        lines.append(
            {
                **dict(zip([*EXPERIMENT, "arithmetic"], key, strict=True)),
                "pairs": len(group),
                "mean_difference": float(group["difference"].mean()),
                "largest_difference": largest,
                "seed_std": std,
                "inside_seed_spread": None if math.isnan(std) else largest <= std,
            }
        )
    return pd.DataFrame(lines)


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:+.4f}"


def _verdict(inside: bool | None) -> str:
    if inside is None:
        return "no seed spread yet (one seed)"
    return "yes" if inside else "**no**"


def markdown(rows: Iterable[dict], metric: str = "auroc") -> str:
    found = runs(rows, metric)
    paired = pairs(found)
    title = "# Does the arithmetic move results? Strict float32 beside the faster settings"
    intro = (
        "Each pair: one run in strict float32 (`trainer.precision=32-true "
        "callbacks.speedups.tf32=false`) and the run of the same method, configuration, class, "
        f"seed and device under another arithmetic; the difference is the other's {metric} "
        "less float32's. The seed spread is float32's standard deviation over seeds per class, "
        "averaged over classes. A setting that moves no difference beyond the seed spread can "
        "be a default for speed (docs/gpu_session.md)."
    )
    if paired.empty:
        return "\n".join([title, "", intro, "", "No pairs yet: the GPU queue's `float32_check` "
                          "step has not run."]) + "\n"  # fmt: skip
    table = summary(found)
    header = ["method", "dataset", "arithmetic", "device", "pairs", "mean difference",
              "largest abs difference", "seed std (float32)", "inside the seed spread"]  # fmt: skip
    lines = [
        [s.method, s.dataset, s.arithmetic, str(s.device), str(s.pairs),
         _number(s.mean_difference), f"{s.largest_difference:.4f}",
         "-" if math.isnan(s.seed_std) else f"{s.seed_std:.4f}", _verdict(s.inside_seed_spread)]
        for s in table.itertuples()
    ]  # fmt: skip
    each = [
        [p.method, p.arithmetic, str(p.device), str(p["class"]), str(p.seed),
         f"{p.float32:.4f}", f"{p.other:.4f}", _number(p.difference)]
        for _, p in paired.sort_values(["method", "arithmetic", "class", "seed"]).iterrows()
    ]  # fmt: skip
    pair_header = ["method", "arithmetic", "device", "class", "seed", "float32", "other",
                   "difference"]  # fmt: skip
    return "\n".join([title, "", intro, "", *markdown_grid(header, lines), "", "## Each pair", "",
                      *markdown_grid(pair_header, each)]) + "\n"  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    parser = verb_parser(__doc__)
    parser.add_argument(
        "--results-dir", type=Path, default=Path("docs/results"), help="the results store to read"
    )
    parser.add_argument("--metric", default="auroc", help="any numeric row field")
    args = parser.parse_args(argv)
    print(markdown(ResultsStore(args.results_dir).read(), args.metric), end="")


if __name__ == "__main__":
    main()
