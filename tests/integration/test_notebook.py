"""The analysis notebook runs top to bottom against a tiny results store made here."""

import nbformat
import pytest
from nbclient import NotebookClient

from anomaly_bench.engine.run import train
from tests.conftest import ROOT

# End to end: runs, then the notebook in a kernel.
pytestmark = pytest.mark.slow

NOTEBOOK = ROOT / "notebooks" / "compare_methods.ipynb"


def test_compare_methods_notebook_executes(make_config, tmp_path, monkeypatch):
    for model in ("iforest", "memae"):
        cfg = make_config(f"model={model}", "data=synthetic", "trainer.fast_dev_run=true")
        train(cfg)
    monkeypatch.setenv("ANOMALY_BENCH_RESULTS", str(cfg.paths.results_dir))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, resources={"metadata": {"path": str(NOTEBOOK.parent)}}
    ).execute()
    printed = "".join(
        output.get("text", "") for cell in notebook.cells for output in cell.get("outputs", [])
    )
    # Smoke runs: their columns say so (a smoke setting is part of the configuration).
    columns = "| class | iforest (fast_dev_run True) | memae (fast_dev_run True) |"
    assert "2 ok runs" in printed and columns in printed
    images = [
        o
        for cell in notebook.cells
        for o in cell.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert len(images) == 2  # the per-class figure and the histograms + ROC curves
