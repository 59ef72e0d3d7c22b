"""A run of a method that reconstructs keeps its example pictures in the store; `anomaly-bench
pictures` draws the same strip again from the checkpoint, and says why it draws none."""

from pathlib import Path

import numpy as np
from PIL import Image

from anomaly_bench.cli import main
from anomaly_bench.engine.run import train
from anomaly_bench.store.results import ResultsStore


def digits_run(make_config, model: str) -> dict:
    return train(make_config("data=digits", f"model={model}", "trainer.max_epochs=1",
                             "trainer.enable_progress_bar=false"))  # fmt: skip


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def test_a_runs_pictures_are_kept_and_drawn_again_identically_from_its_checkpoint(
    make_config, capsys
):
    row = digits_run(make_config, "memae")
    results = Path(make_config().paths.results_dir)
    store = ResultsStore(results)
    kept = store.picture_path(row["run_key"])
    at_finish = pixels(kept)
    # One strip: four picks of three panels each, wider than tall.
    assert at_finish.shape[1] > 5 * at_finish.shape[0]
    assert np.array_equal(pixels(row["pictures_path"]), at_finish)

    kept.unlink()
    main(["pictures", "--results-dir", str(results)])
    assert f"{row['run_key']}: drawn" in capsys.readouterr().out
    assert np.array_equal(pixels(kept), at_finish)
    # Without the run's saved scores, the test split is scored again: the same strip.
    Path(row["scores_path"]).unlink()
    main(["pictures", "--results-dir", str(results), "--redraw"])
    assert np.array_equal(pixels(kept), at_finish)

    main(["pictures", "--results-dir", str(results)])
    assert "kept: already drawn" in capsys.readouterr().out


def test_a_method_without_a_reconstruction_draws_none_and_pictures_says_why(make_config, capsys):
    row = digits_run(make_config, "iforest")
    assert row["pictures_path"] is None
    results = Path(make_config().paths.results_dir)
    main(["pictures", "--results-dir", str(results)])
    assert "skipped: iforest has no reconstruction to draw" in capsys.readouterr().out
    assert not ResultsStore(results).picture_path(row["run_key"]).exists()


def test_a_store_that_cannot_take_the_pictures_still_gets_the_ok_row(make_config, caplog):
    results = Path(make_config().paths.results_dir)
    results.mkdir(parents=True)
    (results / "example_pictures").write_text("a file where the folder should be")
    row = digits_run(make_config, "memae")
    assert row["status"] == "ok" and Path(row["pictures_path"]).is_file()
    assert [r["status"] for r in ResultsStore(results).read()] == ["ok"]
    assert "example pictures not copied into the store" in caplog.text
