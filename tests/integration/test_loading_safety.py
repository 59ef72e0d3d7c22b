"""Loading a data file or a checkpoint never runs code from it."""

import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from anomaly_bench.cli import main
from anomaly_bench.data.sources import load_dataset
from anomaly_bench.engine.run import train
from anomaly_bench.store.results import ResultsStore
from tests.unit.data.test_sources import write_cifar_batch


class CreatesMarker:
    """Unpickling this calls `open(marker, "w")`: the file appears if the loader ran the code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_crafted_cifar_batch_is_refused_naming_the_file_and_the_global(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    marker = tmp_path / "marker"
    data = np.zeros((2, 3072), dtype=np.uint8)
    with (folder / "data_batch_1").open("wb") as f:
        pickle.dump({b"data": data, b"labels": [0, 1], b"x": CreatesMarker(marker)}, f)
    write_cifar_batch(folder / "test_batch", 5)
    with pytest.raises(
        ValueError, match=r"data_batch_1 refused: it asks to load the global io\.open"
    ):
        load_dataset("cifar10", tmp_path, download=False)
    assert not marker.exists()


def test_the_shipped_cifar_pickles_still_load(cifar_dir):
    splits = load_dataset("cifar10", cifar_dir, download=False)
    assert splits.train_images.shape[1:] == (3, 32, 32) and len(splits.test_images) == 10_000


def iforest_run(make_config) -> dict:
    return train(
        make_config(
            "model=iforest", "data=synthetic", "trainer.enable_progress_bar=false", "seed=3"
        )
    )


def test_an_iforest_checkpoint_carries_no_forest_and_a_crafted_one_runs_nothing(make_config):
    first = iforest_run(make_config)
    [checkpoint] = Path(first["output_dir"]).parent.glob("logs/checkpoints/*/last.ckpt")
    saved = torch.load(checkpoint, weights_only=True)
    assert "isolation_forest" not in saved and saved["isolation_forest_fit_images"] == 48
    marker = checkpoint.parent / "marker"
    saved["isolation_forest"] = pickle.dumps(CreatesMarker(marker))  # an older format's slot
    torch.save(saved, checkpoint)

    again = iforest_run(make_config)  # resumes: refits the forest from the same images
    assert again["resumed_from"] == str(checkpoint)
    assert not marker.exists()
    assert again["auroc"] == first["auroc"]
    np.testing.assert_array_equal(
        np.load(again["scores_path"])["scores"], np.load(first["scores_path"])["scores"]
    )


@pytest.mark.parametrize("verb", ["predict", "pictures", "memory-sparsity", "batchnorm-check"])
@pytest.mark.parametrize(
    "node",
    [
        "data",
        "model",
        # Nested anywhere, not only at a node's top.
        "data.extra",
    ],
)
def test_a_stored_run_whose_config_builds_foreign_code_is_refused_and_runs_nothing(
    tmp_path, capsys, node, verb
):
    """A shared store's row naming `pathlib.Path.write_text` as a target would write a file when
    a verb rebuilds the run from it; every verb that rebuilds runs refuses it first."""
    marker = tmp_path / "marker"
    payload = {"_target_": "pathlib.Path.write_text", "_args_": [str(marker), "x"]}
    config = {
        "paths": {"checkpoint_dir": str(tmp_path), "results_dir": str(tmp_path / "results")},
        "model": {"_target_": "anomaly_bench.models.memae.Memae"},
        "data": {"_target_": "anomaly_bench.data.OneClassDataModule", "dataset": "synthetic"},
    }
    if node == "data.extra":
        config["data"]["extra"] = payload
    else:
        config[node] = payload
    torch.save({"epoch": 0}, tmp_path / "last.ckpt")  # the row's epoch: pictures go on to build
    row = {"run_key": "memae_synthetic_class0_shared", "status": "ok", "method": "memae",
           "dataset": "synthetic", "protocol": "paper", "normal_class": 0, "seed": 0,
           "auroc": 0.5, "epochs": 1, "config": config}  # fmt: skip
    ResultsStore(tmp_path / "results").append(row)
    images = [] if verb != "predict" else [str(tmp_path / "last.ckpt")]
    with pytest.raises(SystemExit):
        main([verb, *images, "--results-dir", str(tmp_path / "results")])
    assert "_target_ 'pathlib.Path.write_text' is not one of" in capsys.readouterr().err
    assert not marker.exists()
