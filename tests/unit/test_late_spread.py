"""The range a cell's AUROC moves in late in training, against the paper's figure."""

from anomaly_bench.reporting.late_spread import late_range, late_spread_markdown
from anomaly_bench.reporting.paper_tables import load_paper_table
from tests.unit.test_claim import claim_lines
from tests.unit.test_results_page import reference_row

TABLE1 = load_paper_table(1)
PAPER = TABLE1.values["auroc"]


def swinging_row(normal_class: int, aurocs: list[float], seed: int = 0) -> dict:
    """A DAGMM row with a point every other epoch; its last point is its AUROC."""
    points = [{"epoch": 2 * (i + 1), "auroc": a} for i, a in enumerate(aurocs)]
    return reference_row(
        "dagmm", normal_class, aurocs[-1], epochs=2 * len(aurocs), learning_curve=points, seed=seed
    )


def test_only_the_second_half_counts_and_seeds_pool():
    # Epochs 2..8 of 8: the second half is epochs 6 and 8 (past epoch 4).
    early_high = swinging_row(4, [0.99, 0.98, 0.60, 0.70])
    other_seed = swinging_row(4, [0.10, 0.20, 0.65, 0.80], seed=1)
    spread = late_range([early_high, other_seed])
    # Four points pooled: a median between the middle two (0.65 of seed 1, 0.70 of seed 0).
    assert (spread.low, spread.high, spread.median) == (0.60, 0.80, (0.65 + 0.70) / 2)


def test_the_page_marks_where_the_paper_lies_inside_and_counts_it():
    paper = PAPER["dagmm"]
    inside = swinging_row(0, [0.5, 0.5, paper[0] - 0.1, paper[0] + 0.1])
    below = swinging_row(1, [0.5, 0.5, paper[1] - 0.3, paper[1] - 0.2])
    no_curve = reference_row("ganomaly", 1, 0.9)
    lines = claim_lines(late_spread_markdown([inside, below, no_curve], TABLE1))
    assert lines["0"] == [
        f"{paper[0]:.4f} [{paper[0] - 0.1:.4f}, {paper[0] + 0.1:.4f}] (paper inside)"
    ]
    assert lines["1"] == [f"{paper[1] - 0.25:.4f} [{paper[1] - 0.3:.4f}, {paper[1] - 0.2:.4f}]"]
    assert lines["*over the classes*"] == ["paper inside: 1 of 2; median width 0.1500"]


def test_no_section_without_a_curve():
    assert late_spread_markdown([reference_row("ganomaly", 0, 0.9)], TABLE1) is None
    # iForest's single fit, recorded with one point at its only epoch: no range to show.
    single_fit = reference_row(
        "iforest", 0, 0.9, epochs=1, learning_curve=[{"epoch": 1, "auroc": 0.9}]
    )
    assert late_spread_markdown([single_fit], TABLE1) is None
