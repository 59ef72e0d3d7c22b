"""What a method's yaml says about it (its `method` node) and what reads it."""

from hydra.utils import get_class

from anomaly_bench.settings.checks import PositiveInt, positive_int_settings
from anomaly_bench.settings.method_facts import demo_budgets, first_stage_key, method_facts
from anomaly_bench.store.run_identity import run_key


def test_the_demo_runs_the_methods_whose_yaml_states_a_budget_cheapest_first():
    budgets = demo_budgets()
    assert budgets == {"iforest": 1, "ganomaly": 10, "mem_ganomaly": 10, "memae": 10,
                       "deep_svdd": 50}  # fmt: skip
    assert list(budgets) == ["iforest", "ganomaly", "mem_ganomaly", "memae", "deep_svdd"]


def test_two_stage_methods_name_the_key_of_their_first_stage():
    assert first_stage_key("fanogan") == "gan_epochs"
    assert first_stage_key("deep_svdd") == "pretrain_epochs"
    assert first_stage_key("ganomaly") is None
    assert method_facts("no_such_method") == {}


def test_the_paper_grids_read_a_curve_point_where_the_method_says(make_config):
    """DAGMM's point (a mixture over the training set, then the subsample) costs about half an
    epoch, so its yaml asks for one every 4th epoch; the other methods get one every epoch, and
    the command line still decides."""
    cadence = {
        method: make_config("experiment=table1_mnist", f"model={method}").callbacks
        for method in ("dagmm", "ganomaly", "mem_ganomaly")
    }
    assert {m: c.learning_curve.every_n_epochs for m, c in cadence.items()} == {
        "dagmm": 4, "ganomaly": 1, "mem_ganomaly": 1,
    }  # fmt: skip
    chosen = make_config(
        "experiment=table1_mnist", "model=dagmm", "callbacks.learning_curve.every_n_epochs=2"
    )
    assert chosen.callbacks.learning_curve.every_n_epochs == 2


def test_the_method_node_is_not_part_of_a_runs_identity(make_config):
    base = run_key(make_config("data=synthetic"))
    assert run_key(make_config("data=synthetic", "method.demo_epochs=3")) == base


def test_a_size_declares_itself_by_its_annotation():
    class Sized:
        def __init__(self, width: PositiveInt = 8, rate: float = 0.1, seed: int = 0) -> None:
            pass

    assert positive_int_settings(Sized) == ("width",)
    ganomaly = get_class("anomaly_bench.models.ganomaly.Ganomaly")
    assert positive_int_settings(ganomaly) == ("latent_dim", "width")
