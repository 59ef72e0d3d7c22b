"""What the tools read about a method from its own yaml: the `method` node of
`conf/model/<id>.yaml`, facts about the method, not settings of a run.

`demo_epochs`: the method's budget in the demo (a method without one is not in the demo's
default list). `first_stage`: for a two-stage method, the model key that holds its first stage's
epochs (f-AnoGAN's GAN, Deep SVDD's pretraining). `curve_every_n_epochs`: the paper grids'
learning-curve cadence where a point every epoch would cost too much of the run (the experiment
yamls read it by interpolation; default 1). The demo, the benchmarks, the results page and the
contract test read them here, so a new detector is its model file and its yaml, nothing else.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from omegaconf import OmegaConf

from anomaly_bench import CONF_DIR

MODEL_CONF = CONF_DIR / "model"


def method_ids() -> list[str]:
    """Every method with a yaml, by id (the yaml's name)."""
    return sorted(path.stem for path in MODEL_CONF.glob("*.yaml"))


@cache
def method_facts(method: str) -> dict[str, Any]:
    """The `method` node of the method's yaml; empty for a method without one (or no yaml, as for
    a row written by a method since removed)."""
    path = MODEL_CONF / f"{method}.yaml"
    if not path.is_file():
        return {}
    node = OmegaConf.load(path).get("method")
    return OmegaConf.to_container(node) if node is not None else {}


def first_stage_key(method: str) -> str | None:
    """The model key that holds the method's first stage's epochs; None for one stage."""
    return method_facts(method).get("first_stage")


def demo_budgets() -> dict[str, int]:
    """{method: its demo epochs} for every method that states one, cheapest first, so the demo's
    first lines come quickly."""
    budgets = {
        m: method_facts(m)["demo_epochs"] for m in method_ids() if "demo_epochs" in method_facts(m)
    }
    return dict(sorted(budgets.items(), key=lambda item: (item[1], item[0])))
