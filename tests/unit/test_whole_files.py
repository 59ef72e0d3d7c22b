"""A file written whole or not at all: a writer that fails part way leaves the previous file."""

import os
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
import torch

from anomaly_bench.evaluation.anomaly_maps import save_map_pair
from anomaly_bench.evaluation.plots import save_roc_curve
from anomaly_bench.settings.whole_files import check_target, write_whole, written_whole


def test_a_finished_write_replaces_the_file_and_leaves_no_temporary_one(tmp_path):
    target = tmp_path / "deeper" / "predictions.csv"
    with written_whole(target) as partial:
        partial.write_text("path,score\na.png,0.5\n")
        assert not target.exists()  # nothing under the real name until the block ends
    assert target.read_text() == "path,score\na.png,0.5\n"
    assert os.listdir(target.parent) == ["predictions.csv"]


def test_a_write_that_fails_part_way_keeps_the_previous_file(tmp_path):
    target = tmp_path / "predictions.csv"
    target.write_text("yesterday's predictions\n")
    with pytest.raises(KeyboardInterrupt), written_whole(target) as partial:
        partial.write_text("path,sc")
        raise KeyboardInterrupt
    assert target.read_text() == "yesterday's predictions\n"
    assert os.listdir(tmp_path) == ["predictions.csv"]


def test_a_target_that_cannot_be_written_is_refused_naming_it(tmp_path):
    (tmp_path / "a_file").write_text("")
    check_target("--output", tmp_path / "new" / "deeper" / "p.csv")  # folders are made
    with pytest.raises(ValueError, match=r"--output .* is a folder; allowed: a file's path"):
        check_target("--output", tmp_path)
    with pytest.raises(ValueError, match=r"a_file is a file, not a folder; allowed"):
        check_target("--export", tmp_path / "a_file" / "model.onnx")


def test_a_folder_without_write_permission_is_refused_naming_it(tmp_path, monkeypatch):
    """The tests run as root, whom every folder lets write, so the permission is denied here by
    standing in for `os.access` (what the check asks) on one folder."""
    locked = tmp_path / "read_only"
    locked.mkdir()
    monkeypatch.setattr(
        "anomaly_bench.settings.whole_files.os.access", lambda path, mode: Path(path) != locked
    )
    with pytest.raises(
        ValueError, match=r"--output .*read_only/p\.csv: .*read_only is not writable"
    ):
        check_target("--output", locked / "p.csv")
    check_target("--output", tmp_path / "p.csv")


def test_a_text_file_is_written_whole_with_its_folders(tmp_path):
    target = tmp_path / "pages" / "table1.md"
    write_whole(target, "# Table 1\n")
    write_whole(target, "# Table 1, again\n")
    assert target.read_text() == "# Table 1, again\n"
    assert os.listdir(target.parent) == ["table1.md"]


def _disk_full_half_way(image, target, *args, **kwargs):
    """Pillow's save (what matplotlib's PNG writer calls too), failing after half a header."""
    with open(target, "wb") if isinstance(target, str | Path) else nullcontext(target) as out:
        out.write(b"\x89PNG\r\n")
    raise OSError("No space left on device")


def test_a_figure_whose_write_fails_keeps_the_previous_picture(tmp_path, monkeypatch):
    """A report or predict killed while writing a PNG (a committed reference figure, a user's
    earlier anomaly map) leaves the previous picture readable and no temporary file."""
    roc = tmp_path / "roc.png"
    save_roc_curve(np.array([0.0, 1.0]), np.array([1.0, 1.0]), 1.0, roc)
    before = roc.read_bytes()
    pixels = np.zeros((1, 4, 4), dtype=np.uint8)
    save_map_pair(tmp_path, "a", pixels, torch.zeros(1, 4, 4), np.zeros((4, 4)))
    maps = {path: path.read_bytes() for path in tmp_path.glob("a_*.png")}
    monkeypatch.setattr(PIL.Image.Image, "save", _disk_full_half_way)
    with pytest.raises(OSError, match="No space left"):
        save_roc_curve(np.array([0.0, 1.0]), np.array([0.5, 1.0]), 0.75, roc)
    with pytest.raises(OSError, match="No space left"):
        save_map_pair(tmp_path, "a", pixels, torch.ones(1, 4, 4), np.ones((4, 4)))
    assert roc.read_bytes() == before
    assert {path: path.read_bytes() for path in maps} == maps
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        ["roc.png", *(path.name for path in maps)]
    )
