"""The Mem_GANomaly paper's published tables, read from `conf/paper/table<N>.yaml`.

The numbers live in the yaml files, transcribed cell by cell, never in code; the report prints
them beside ours.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from omegaconf import OmegaConf

from anomaly_bench import CONF_DIR
from anomaly_bench.settings.checks import check_choice

PAPER_DIR = CONF_DIR / "paper"
TABLES = (1, 2, 3, 4)


@dataclass(frozen=True)
class PaperTable:
    """One table: `values[metric][method]` is a list over classes 0-9 (tables 1-3, metric auroc)
    or a single mean over the classes (table 4)."""

    number: int
    title: str
    dataset: str
    protocol: str
    paper_names: dict[str, str]
    class_labels: list[str]
    values: dict[str, dict[str, list[float] | float]]
    mean: dict[str, float]


def load_paper_table(number: int, paper_dir: Path = PAPER_DIR) -> PaperTable:
    check_choice("table", number, TABLES)
    raw = OmegaConf.to_container(OmegaConf.load(paper_dir / f"table{number}.yaml"))
    values = {raw["metric"]: raw["values"]} if "metric" in raw else raw["values"]
    return PaperTable(
        number=raw["table"],
        title=raw["title"],
        dataset=raw["dataset"],
        protocol=raw["protocol"],
        paper_names=raw["paper_names"],
        class_labels=raw.get("class_labels", []),
        values=values,
        mean=raw.get("mean", {}),
    )
