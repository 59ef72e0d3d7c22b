import json
import logging
import multiprocessing

import pytest

from anomaly_bench.engine.run import resolved_config
from anomaly_bench.store.results import ResultsStore, key_today
from anomaly_bench.store.run_identity import run_key

# The fields every row a run writes has (the store skips a row without them).
ROW = {
    "status": "ok", "method": "iforest", "dataset": "digits", "protocol": "paper",
    "normal_class": 0, "seed": 0, "auroc": 0.5,
}  # fmt: skip


def test_rows_round_trip_in_write_order(tmp_path):
    store = ResultsStore(tmp_path / "store")
    for i in range(3):
        store.append(ROW | {"run": i})
    assert [row["run"] for row in store.read()] == [0, 1, 2]


def test_non_finite_metrics_are_written_as_null_json(tmp_path):
    store = ResultsStore(tmp_path)
    store.append({"auroc": float("nan"), "nested": {"x": float("inf")}})
    line = store.path.read_text()
    assert "NaN" not in line and "Infinity" not in line
    assert json.loads(line) == {"auroc": None, "nested": {"x": None}}


def test_a_torn_last_line_is_skipped_and_never_glued_to_the_next_row(tmp_path, caplog):
    store = ResultsStore(tmp_path)
    store.append(ROW | {"run": 0})
    with store.path.open("a") as f:
        f.write('{"run": 1, "aur')  # a writer killed mid-line
    store.append(ROW | {"run": 2})
    with caplog.at_level(logging.WARNING):
        rows = store.read()
    assert [row["run"] for row in rows] == [0, 2]
    assert "line 2 skipped: not JSON" in caplog.text


def test_reading_a_store_that_does_not_exist_yet_gives_no_rows(tmp_path):
    assert ResultsStore(tmp_path / "nowhere").read() == []


def append_rows(results_dir: str, writer: int, n: int) -> None:
    store = ResultsStore(results_dir)
    for i in range(n):
        store.append(ROW | {"writer": writer, "i": i, "payload": "x" * 2000})


@pytest.mark.slow
def test_eight_concurrent_writers_lose_and_tear_no_row(tmp_path):
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=append_rows, args=(str(tmp_path), w, 100)) for w in range(8)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
    assert [process.exitcode for process in writers] == [0] * 8
    rows = ResultsStore(tmp_path).read()
    assert len(rows) == 800
    assert {(row["writer"], row["i"]) for row in rows} == {
        (w, i) for w in range(8) for i in range(100)
    }
    assert len(ResultsStore(tmp_path).path.read_text().splitlines()) == 800


def test_latest_ok_finds_the_last_ok_row_of_a_run_key(tmp_path):
    store = ResultsStore(tmp_path)
    for row in (
        ROW | {"run_key": "a", "n": 1},
        ROW | {"run_key": "a", "status": "failed"},
        ROW | {"run_key": "a", "n": 2},
        ROW | {"run_key": "b", "status": "failed"},
    ):
        store.append(row)
    assert store.latest_ok("a")["n"] == 2
    assert store.latest_ok("b") is None


def test_a_run_done_before_the_scoring_batch_left_the_key_still_counts_as_done(
    make_config, tmp_path
):
    """Rows keep the key they were written under; skip_done recomputes it from the saved config."""
    cfg = make_config("data=synthetic", "data.eval_batch_size=256")
    store = ResultsStore(tmp_path / "store")
    store.append(ROW | {"run_key": "written_under_older_rules", "config": resolved_config(cfg)})
    assert store.latest_ok(run_key(make_config("data=synthetic")))["run_key"] == (
        "written_under_older_rules"
    )
    assert store.latest_ok(run_key(make_config("data=synthetic", "seed=1"))) is None


def test_todays_key_follows_each_rows_own_config_however_often_it_is_asked(make_config):
    """The key is remembered per config text (a page asks for it dozens of times a row): a row
    whose config differs by one value gets its own key, never the one remembered for another,
    and a config that no longer composes keeps the key it was stored under."""
    configs = [resolved_config(make_config("data=synthetic", f"seed={seed}")) for seed in (0, 1)]
    rows = [ROW | {"run_key": f"old{i}", "config": config} for i, config in enumerate(configs)]
    for _ in range(2):
        assert [key_today(row) for row in rows] == [
            run_key(make_config("data=synthetic", f"seed={seed}")) for seed in (0, 1)
        ]
    broken = ROW | {"run_key": "stored", "config": {"data": {"dataset": "synthetic"}}}
    assert key_today(broken) == "stored"
    assert key_today(ROW | {"run_key": "no_config"}) == "no_config"
