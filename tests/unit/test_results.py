import json
import logging

from anomaly_bench.results import ResultsStore


def test_rows_round_trip_in_write_order(tmp_path):
    store = ResultsStore(tmp_path / "store")
    for i in range(3):
        store.append({"run": i, "status": "ok"})
    assert [row["run"] for row in store.read()] == [0, 1, 2]


def test_non_finite_metrics_are_written_as_null_json(tmp_path):
    store = ResultsStore(tmp_path)
    store.append({"auroc": float("nan"), "nested": {"x": float("inf")}})
    line = store.path.read_text()
    assert "NaN" not in line and "Infinity" not in line
    assert json.loads(line) == {"auroc": None, "nested": {"x": None}}


def test_a_torn_last_line_is_skipped_and_never_glued_to_the_next_row(tmp_path, caplog):
    store = ResultsStore(tmp_path)
    store.append({"run": 0})
    with store.path.open("a") as f:
        f.write('{"run": 1, "aur')  # a writer killed mid-line
    store.append({"run": 2})
    with caplog.at_level(logging.WARNING):
        rows = store.read()
    assert [row["run"] for row in rows] == [0, 2]
    assert "skipped 1 torn" in caplog.text


def test_reading_a_store_that_does_not_exist_yet_gives_no_rows(tmp_path):
    assert ResultsStore(tmp_path / "nowhere").read() == []
