"""Seeded tiny runs whose rows a refactor must keep: same run key, same metrics.

`tests/data/rows_before.json` holds the run key and metrics each case gave when it was written;
`tests/integration/test_rows_stay.py` reruns the cases and compares. Rewrite the file only for a
change that is meant to change rows (`python -m tests.rows_before [CASE ...]`), and say so in the
commit.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from anomaly_bench.engine.run import train
from tests.conftest import run_config

FIXTURE = Path(__file__).parent / "data" / "rows_before.json"
SMALL = ["data=synthetic", "trainer.max_epochs=2", "trainer.enable_progress_bar=false"]
# Every model: the GANs' code was recomposed, and every model's rows must stay.
CASES = {
    "anogan": ["model=anogan", "model.width=8", "model.search.steps=3"],
    "wgan": [
        "model=wgan",
        "model.width=8",
        "model.score=latent_search",
        "model.search.steps=20",
        "model.search.lr=0.5",
    ],
    "fanogan": ["model=fanogan", "model.width=8", "model.search.lr=0.02"],
    "ganomaly": ["model=ganomaly", "model.width=8"],
    "mem_ganomaly": ["model=mem_ganomaly", "model.width=8"],
    "wgan_gp": ["model=wgan_gp", "model.width=8"],
    "memae": ["model=memae", "model.width=8"],
    "dagmm": ["model=dagmm", "model.width=8"],
    "deep_svdd": ["model=deep_svdd"],
    "iforest": ["model=iforest", "model.n_estimators=10"],
}
# Rank metrics only: a threshold (and the rates at it) can hop between near-equal candidates on
# another CPU's float rounding; a ranking moves by a tie at most.
METRICS = ("auroc", "auprc")


def run_case(name: str, output: Path) -> dict:
    """One case's run key and metrics, the run's files under `output`."""
    row = train(run_config(output / name, *SMALL, *CASES[name]))
    return {"run_key": row["run_key"], **{m: row[m] for m in METRICS}}


def main(names: list[str]) -> None:
    """Record the named cases (every case when none is named), keeping the others' rows."""
    rows = json.loads(FIXTURE.read_text()) if FIXTURE.exists() else {}
    with tempfile.TemporaryDirectory() as folder:
        rows |= {name: run_case(name, Path(folder)) for name in names or CASES}
    FIXTURE.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"written: {FIXTURE}")


if __name__ == "__main__":
    main(sys.argv[1:])
