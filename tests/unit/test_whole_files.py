"""A file written whole or not at all: a writer that fails part way leaves the previous file."""

import os
from pathlib import Path

import pytest

from anomaly_bench.store.whole_files import check_target, write_whole, written_whole


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
        "anomaly_bench.store.whole_files.os.access", lambda path, mode: Path(path) != locked
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
