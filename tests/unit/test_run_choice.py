"""Which finished runs `--run-key` names. predict's: its key, a start of its key that no other
run's has, or, without one, the store's only run; anything else is refused with the keys to choose
from. pictures' and memory-sparsity's: every run whose key starts with one given."""

import pytest

from anomaly_bench.engine.trained_model import find_row, runs_named
from anomaly_bench.store.results import ResultsStore


def store_of(tmp_path, keys: list[str], status: str = "ok") -> ResultsStore:
    store = ResultsStore(tmp_path)
    for number, key in enumerate(keys):
        store.append({"run_key": key, "status": status, "method": key.split("_")[0],
                      "dataset": "mnist", "protocol": "paper", "normal_class": number % 10,
                      "seed": 0, "auroc": 0.5})  # fmt: skip
    return store


def test_a_start_that_only_one_key_has_names_that_run(tmp_path):
    store_of(tmp_path, ["ganomaly_mnist_class3_paper_seed0_aa", "ganomaly_mnist_class31_x",
                        "memae_mnist_class3_paper_seed0_bb"])  # fmt: skip
    assert find_row(tmp_path, "memae")["run_key"] == "memae_mnist_class3_paper_seed0_bb"
    assert find_row(tmp_path, "ganomaly_mnist_class3_")["run_key"].endswith("_aa")
    # A whole key is that run even where it starts another key.
    store_of(tmp_path, ["memae_mnist_class3_paper_seed0_bb_2"])
    assert find_row(tmp_path, "memae_mnist_class3_paper_seed0_bb")["run_key"].endswith("_bb")


def test_a_start_several_keys_share_lists_them_and_counts_what_it_leaves_out(tmp_path):
    keys = [f"ganomaly_mnist_class{c}_paper_seed{s}_d" for c in range(10) for s in range(3)]
    store_of(tmp_path, [*keys, "memae_mnist_class0_paper_seed0_d"])
    with pytest.raises(
        ValueError, match="holds 30 finished runs whose keys start ganomaly;"
    ) as err:
        find_row(tmp_path, "ganomaly")
    assert "ganomaly_mnist_class0_paper_seed0_d, " in str(err.value)
    assert str(err.value).endswith(", and 10 more") and "memae" not in str(err.value)
    with pytest.raises(ValueError, match="holds 31 finished runs; choose one with --run-key"):
        find_row(tmp_path, None)


def test_a_key_no_finished_run_has_is_refused_naming_it(tmp_path):
    store_of(tmp_path, ["memae_mnist_class3_paper_seed0_bb"])
    with pytest.raises(
        ValueError, match=r"--run-key ganomaly: no finished run in .* or one starting so"
    ):
        find_row(tmp_path, "ganomaly")
    failed = tmp_path / "failed"
    store_of(failed, ["memae_mnist_class3_paper_seed0_bb"], status="failed")
    with pytest.raises(ValueError, match="holds no finished run"):
        find_row(failed, None)


def test_several_starts_take_every_run_they_start_and_one_naming_none_is_refused(tmp_path):
    store = store_of(tmp_path, ["ganomaly_mnist_class3_a", "ganomaly_mnist_class4_b",
                                "ganomaly_fmnist_class3_c", "memae_mnist_class3_d"])  # fmt: skip
    picked = runs_named(store, ["ganomaly_mnist", "memae_mnist_class3_d"])
    assert [row["run_key"] for row in picked] == [
        "ganomaly_mnist_class3_a", "ganomaly_mnist_class4_b", "memae_mnist_class3_d"
    ]  # fmt: skip
    assert len(runs_named(store, None)) == 4
    with pytest.raises(ValueError, match="--run-key dagmm, wgan: no ok row in"):
        runs_named(store, ["ganomaly", "dagmm", "wgan"])
