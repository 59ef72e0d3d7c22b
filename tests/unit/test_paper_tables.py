import statistics

import pytest

from anomaly_bench.reporting.paper_tables import load_paper_table

METHODS = {"iforest", "dagmm", "fanogan", "memae", "ganomaly", "deep_svdd", "mem_ganomaly"}


@pytest.mark.parametrize("number", [1, 2, 3])
def test_auroc_tables_have_ten_classes_by_seven_methods_and_their_own_means(number):
    table = load_paper_table(number)
    assert set(table.values["auroc"]) == METHODS == set(table.paper_names)
    assert len(table.class_labels) == 10
    for method, per_class in table.values["auroc"].items():
        assert len(per_class) == 10 and all(0 < v <= 1 for v in per_class)
        # The paper's mean row, recomputed from the transcribed cells (4-digit rounding).
        assert statistics.fmean(per_class) == pytest.approx(table.mean[method], abs=6e-4), method


def test_table4_has_three_rates_by_six_methods():
    table = load_paper_table(4)
    assert set(table.values) == {"gmean", "false_alarm_rate", "miss_rate"}
    for by_method in table.values.values():
        assert set(by_method) == METHODS - {"iforest"}
        assert all(0 < v < 1 for v in by_method.values())


def test_an_unknown_table_lists_the_known_ones():
    with pytest.raises(ValueError, match="table=5 is not allowed; allowed: 1, 2, 3, 4"):
        load_paper_table(5)
