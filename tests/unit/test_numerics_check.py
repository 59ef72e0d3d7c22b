"""The fp32-vs-default check: pairs of runs that differ by arithmetic alone, held against the
seed-to-seed spread."""

import pytest

from anomaly_bench.engine.run import resolved_config
from anomaly_bench.reporting.numerics_check import markdown, pairs, runs, summary
from anomaly_bench.store.run_identity import run_key

STRICT = "callbacks.speedups.tf32=false"


@pytest.fixture
def row(make_config):
    def make(cls: int, seed: int, auroc: float, *overrides: str, device: str = "H200") -> dict:
        cfg = make_config("data=synthetic", f"data.normal_class={cls}", f"seed={seed}", *overrides)
        return {
            "method": "ganomaly", "dataset": "synthetic", "protocol": "paper",
            "normal_class": cls, "seed": seed, "auroc": auroc, "status": "ok", "device": device,
            "run_key": run_key(cfg), "config": resolved_config(cfg),
        }  # fmt: skip

    return make


def test_runs_that_differ_by_arithmetic_alone_are_paired_and_held_against_the_seed_spread(row):
    rows = [
        row(0, 0, 0.80, STRICT), row(0, 1, 0.84, STRICT), row(1, 0, 0.90, STRICT),
        row(0, 0, 0.81), row(0, 1, 0.83), row(1, 0, 0.90),
        row(0, 0, 0.60, "trainer.precision=bf16-mixed"),
        # Not twins: float32 on another device, another configuration, no float32 run.
        row(2, 0, 0.30, STRICT, device="cpu"), row(2, 0, 0.35),
        row(0, 0, 0.20, "model.w_con=10"), row(3, 0, 0.30),
    ]  # fmt: skip
    found = pairs(runs(rows))
    assert len(found) == 4
    default = found[found.arithmetic.str.startswith("default")].sort_values(["class", "seed"])
    assert list(default["difference"].round(4)) == [0.01, -0.01, 0.0]
    table = summary(runs(rows)).set_index("arithmetic")
    # Class 0's two float32 seeds; class 1 has one and no spread. bf16 was run at one seed of
    # class 0, and is held against the same float32 spread.
    spread = 0.04 / 2**0.5
    assert table.loc["default (torch's TF32 defaults)", "seed_std"] == pytest.approx(spread)
    assert table.loc["default (torch's TF32 defaults)", "inside_seed_spread"]
    assert table.loc["precision bf16-mixed", "largest_difference"] == pytest.approx(0.2)
    assert table.loc["precision bf16-mixed", "seed_std"] == pytest.approx(spread)
    assert not table.loc["precision bf16-mixed", "inside_seed_spread"]
    page = markdown(rows)
    assert "| ganomaly | synthetic | precision bf16-mixed | H200 | 1 | -0.2000 |" in page
    assert "| **no** |" in page and "| yes |" in page


def test_without_pairs_the_page_says_the_check_has_not_run(row):
    assert "has not run" in markdown(
        [row(0, 0, 0.8), row(0, 0, 0.7, "trainer.precision=bf16-mixed")]
    )
