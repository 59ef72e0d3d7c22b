import statistics

import pytest

from anomaly_bench.cli import main
from anomaly_bench.reporting.tables import report
from anomaly_bench.store.results import ResultsStore


def row(method, normal_class, seed, auroc, status="ok"):
    return {"method": method, "dataset": "mnist", "protocol": "paper", "normal_class": normal_class,
            "seed": seed, "auroc": auroc, "status": status,
            **({"error": "DivergenceError: diverged"} if status == "failed" else {})}  # fmt: skip


def test_table_has_mean_and_std_over_seeds_blanks_for_missing_and_ignores_failed(tmp_path):
    store = ResultsStore(tmp_path)
    for r in (
        row("ganomaly", 0, 0, 0.90), row("ganomaly", 0, 1, 0.94), row("ganomaly", 1, 0, 0.80),
        row("memae", 0, 0, 0.70), row("memae", 1, 0, 0.10, status="failed"),
    ):  # fmt: skip
        store.append(r)
    lines = report(tmp_path).splitlines()
    std = statistics.stdev([0.90, 0.94])
    assert "| class | ganomaly | memae |" in lines
    assert f"| 0 | 0.9200 ± {std:.4f} n=2 | 0.7000 |" in lines
    assert "| 1 | 0.8000 |  |" in lines  # the failed memae run is blank, not 0.1 and not 0
    assert "| mean | 0.8600 |  |" in lines  # no mean over an incomplete column
    assert "#### 1 failed run(s), not finished since" in lines
    assert "| memae | mnist | class 1 | 0 | DivergenceError: diverged |" in lines


def test_a_failed_run_finished_later_is_not_listed(tmp_path):
    store = ResultsStore(tmp_path)
    store.append(row("memae", 1, 0, None, status="failed") | {"run_key": "k"})
    store.append(row("memae", 1, 0, 0.9) | {"run_key": "k"})
    assert "failed" not in report(tmp_path)


def test_a_rerun_is_its_latest_row_not_a_second_seed(tmp_path):
    store = ResultsStore(tmp_path)
    store.append(row("ganomaly", 2, 0, 0.74) | {"run_key": "k0"})
    store.append(row("ganomaly", 2, 0, 0.72) | {"run_key": "k0"})  # the same run again
    store.append(row("ganomaly", 2, 1, 0.80) | {"run_key": "k1"})
    std = statistics.stdev([0.72, 0.80])
    assert f"| 2 | 0.7600 ± {std:.4f} n=2 |" in report(tmp_path).splitlines()


def test_an_empty_store_says_so(tmp_path):
    assert "no ok rows" in report(tmp_path)


def test_leave_one_out_rows_get_their_own_table_by_anomalous_class(tmp_path):
    store = ResultsStore(tmp_path)
    store.append(row("ganomaly", 3, 0, 0.90))
    loo = {k: v for k, v in row("ganomaly", None, 0, 0.60).items() if k != "normal_class"}
    store.append(loo | {"protocol": "leave_one_out", "anomalous_class": 3})
    store.append(loo | {"protocol": "leave_one_out", "anomalous_class": 3, "status": "failed"})
    text = report(tmp_path)
    leave_one_out, paper = text.split("### auroc — mnist, paper protocol")
    assert "| 3 | 0.9000 |" in paper and "0.6000" not in paper
    assert "| anomalous class | ganomaly |" in leave_one_out and "| 3 | 0.6000 |" in leave_one_out
    assert "| ganomaly | mnist | anomalous class 3 | 0 |" in paper  # the failed runs' list


def test_the_run_list_gives_each_finished_runs_latest_row_by_key(tmp_path, capsys):
    """What predict and pictures take: one line a key (a rerun's latest), failed runs left out, a
    smoke test marked; `--where` narrows it as it narrows the tables."""
    store = ResultsStore(tmp_path)
    store.append(row("ganomaly", 2, 0, 0.74) | {"run_key": "ganomaly_k2", "epochs": 15})
    latest = {"run_key": "ganomaly_k2", "epochs": 15, "n_train": 5000, "val_threshold": 0.0213}
    store.append(row("ganomaly", 2, 0, 0.72) | latest)
    store.append(row("memae", 1, 0, None, status="failed") | {"run_key": "memae_k1"})
    store.append(row("memae", 3, 1, 0.61) | {"run_key": "memae_k3", "smoke": True, "epochs": 1})
    main(["report", "--results-dir", str(tmp_path), "--runs"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "### 2 finished run(s)"
    assert "| ganomaly_k2 | ganomaly | mnist | class 2 | 0 | 15 | 5000 | 0.72 | 0.0213 |" in lines
    assert "| memae_k3 (smoke test) | memae | mnist | class 3 | 1 | 1 |  | 0.61 | none |" in lines
    main(["report", "--results-dir", str(tmp_path), "--runs", "--where", "method=memae"])
    assert "### 1 finished run(s)" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["report", "--results-dir", str(tmp_path), "--runs", "--table", "1"])
    assert "not allowed with argument" in capsys.readouterr().err
