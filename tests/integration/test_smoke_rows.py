"""A smoke run (fast_dev_run, batch limits) never counts: not as done, not in a table; a run
that would train on nothing is refused before training."""

import pytest

from anomaly_bench.engine.run import train
from anomaly_bench.reporting.comparison import table_rows
from anomaly_bench.reporting.paper_tables import load_paper_table
from anomaly_bench.store.results import ResultsStore

QUICK = ("data=synthetic", "model=iforest", "trainer.enable_progress_bar=false")


def test_a_smoke_row_does_not_satisfy_skip_done_and_stays_out_of_tables(make_config):
    smoke = train(make_config(*QUICK, "trainer.fast_dev_run=true"))
    assert smoke["smoke"] is True and smoke["status"] == "ok"
    full = train(make_config(*QUICK, "skip_done=true"))
    assert full["run_id"] != smoke["run_id"] and full["smoke"] is False
    rows = ResultsStore(make_config(*QUICK).paths.results_dir).read()
    assert [r["run_id"] for r in rows] == [smoke["run_id"], full["run_id"]]
    table = load_paper_table(1)
    as_mnist = [r | {"dataset": table.dataset} for r in rows]
    assert [r["run_id"] for r in table_rows(as_mnist, table)] == [full["run_id"]]


def test_an_older_smoke_row_is_known_by_its_saved_trainer_config():
    from anomaly_bench.store.results import is_smoke

    assert is_smoke({"config": {"trainer": {"limit_test_batches": 2}}})
    assert is_smoke({"fast_dev_run": True})
    assert not is_smoke({"config": {"trainer": {"limit_test_batches": 1.0}}})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("data.val_fraction=0.99999", r"val_fraction=0\.99999 holds out all \d+ normal"),
        ("trainer.limit_train_batches=0", r"limit_train_batches=0 .* would train or score"),
        ("trainer.limit_test_batches=0", r"limit_test_batches=0 .* would train or score"),
    ],
)
def test_a_run_on_no_image_is_refused_naming_the_key(make_config, override, message):
    cfg = make_config(*QUICK, override)
    with pytest.raises(ValueError, match=message):
        train(cfg)
    rows = ResultsStore(cfg.paths.results_dir).read()
    assert [r["status"] for r in rows] == ["failed"]
