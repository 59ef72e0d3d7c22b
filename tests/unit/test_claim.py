"""The paper's claim on our cells: its method against GANomaly, paired by class, both protocols."""

import json

from scipy.stats import wilcoxon

from anomaly_bench import REFERENCE_RESULTS
from anomaly_bench.reporting.claim import claim_markdown
from anomaly_bench.reporting.comparison import table_rows
from anomaly_bench.reporting.configurations import column_of
from anomaly_bench.reporting.paper_tables import load_paper_table
from tests.unit.test_results_page import reference_row

TABLE1 = load_paper_table(1)


def curved_row(method: str, normal_class: int, last: float, best: float) -> dict:
    """A row whose curve's best epoch (3) scored `best` on the whole split."""
    points = [{"epoch": e, "auroc": a} for e, a in ((1, 0.5), (3, best - 0.01), (5, last))]
    choices = {"best_test_epoch": {"epoch": 3, "auroc": best, "score_seconds": 1.0}}
    return reference_row(
        method, normal_class, last, epochs=5, learning_curve=points, epoch_choices=choices
    )


def claim_lines(text: str) -> dict[str, list[str]]:
    """The claim table's lines by protocol: their cells after the protocol's name."""
    lines = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in line.split("|")[1:-1]]
                                              for line in lines[1:])}  # fmt: skip


def test_the_claim_pairs_classes_and_tests_both_protocols_with_wilcoxon():
    proposed = [0.90 + 0.009 * c for c in range(10)]
    baseline = [p - 0.01 - 0.001 * c for c, p in enumerate(proposed)]  # lower on every class
    rows = [curved_row("mem_ganomaly", c, proposed[c], 0.95) for c in range(10)]
    rows += [curved_row("ganomaly", c, baseline[c], 0.96 + 0.001 * c) for c in range(10)]
    rows.append(reference_row("ganomaly", 0, 0.1, seed=1))  # two seeds: the cell is their mean
    text = claim_markdown(rows, TABLE1)
    lines = claim_lines(text)
    proposed_cells, baseline_cells = proposed, [(baseline[0] + 0.1) / 2, *baseline[1:]]
    honest = lines["last epoch (honest)"]
    assert honest[0] == ", ".join(str(c) for c in range(10))
    assert honest[5] == "10 of 10"
    assert float(honest[6]) == float(f"{wilcoxon(proposed_cells, baseline_cells).pvalue:.3g}")
    paper = TABLE1.values["auroc"]
    margin = sum(paper["mem_ganomaly"][c] - paper["ganomaly"][c] for c in range(10)) / 10
    assert honest[4] == f"{margin:+.4f}"
    chosen = lines["best test epoch (chosen on the test set)"]
    assert chosen[1:3] == ["0.9500", f"{sum(0.96 + 0.001 * c for c in range(10)) / 10:.4f}"]
    assert chosen[5] == "0 of 10"
    assert "last epoch (honest): mem_ganomaly better (p = 0.00195)" in text
    assert "best test epoch (chosen on the test set): ganomaly better" in text


def test_the_claim_reads_only_the_methods_default_columns():
    """A run of GANomaly under another configuration (here class 2 with held-out normals, whose
    best test epoch is 0.06 above the default run's) is a column of its own, never part of the
    pair: an ad-hoc script that keyed runs by method and class once took it in."""
    rows = [
        json.loads(line) for line in (REFERENCE_RESULTS / "results.jsonl").read_text().splitlines()
    ]
    rows = table_rows(rows, TABLE1)
    variants = [r for r in rows if r["method"] == "ganomaly" and column_of(r).label != "ganomaly"]
    assert variants, "the committed rows no longer hold a GANomaly variant to test with"
    defaults = [r for r in rows if r not in variants]
    assert claim_markdown(rows, TABLE1) == claim_markdown(defaults, TABLE1)


def test_no_claim_section_without_both_columns():
    assert claim_markdown([reference_row("ganomaly", 0, 0.9)], TABLE1) is None
