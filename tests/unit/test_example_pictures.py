"""The pictures' choice of images, and the report section that links them."""

import numpy as np
import pytest

from anomaly_bench.evaluation.example_pictures import pick_examples
from anomaly_bench.reporting.example_pictures import pictures_markdown
from anomaly_bench.reporting.paper_tables import load_paper_table
from anomaly_bench.store.results import ResultsStore


def test_the_picks_are_the_ends_of_each_labels_scores():
    scores = np.array([0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.8])
    labels = np.array([0, 0, 0, 1, 1, 1, 1])
    picks = pick_examples(scores, labels)
    assert [(p.title, p.index) for p in picks] == [
        ("normal, lowest score", 1),
        ("normal, highest score", 2),
        ("anomaly, highest score", 6),
        ("anomaly, lowest score", 5),
    ]
    assert [p.score for p in picks] == pytest.approx([0.1, 0.9, 0.8, 0.2])


def test_a_split_without_anomalies_gets_its_normal_picks_only():
    picks = pick_examples(np.array([0.4, 0.2]), np.array([0, 0]))
    assert [p.index for p in picks] == [1, 0]


def row(method, normal_class, seed):
    return {"method": method, "dataset": "mnist", "protocol": "paper", "status": "ok",
            "normal_class": normal_class, "seed": seed, "auroc": 0.9,
            "run_key": f"{method}_mnist_class{normal_class}_paper_seed{seed}_x"}  # fmt: skip


def test_the_section_links_each_class_strip_that_exists_relative_to_the_page(tmp_path):
    store = ResultsStore(tmp_path / "results")
    rows = [row("ganomaly", 0, 0), row("ganomaly", 0, 1), row("ganomaly", 3, 0), row("memae", 0, 0)]
    for drawn in rows[:2]:
        store.picture_path(drawn["run_key"]).parent.mkdir(parents=True, exist_ok=True)
        store.picture_path(drawn["run_key"]).write_bytes(b"png")
    page = tmp_path / "results" / "report" / "table1.md"
    text = pictures_markdown(rows, load_paper_table(1), store, page)
    assert "### ganomaly" in text and "### memae" not in text  # memae drew none
    # One strip per class: the first seed's; class 3 has none.
    assert text.count("![ganomaly") == 1
    assert "../example_pictures/ganomaly_mnist_class0_paper_seed0_x.png" in text
    assert pictures_markdown(rows[2:], load_paper_table(1), store, page) is None
