"""What a row records about the machine and the code that produced it."""

import re

import pytest
import torch

from anomaly_bench.runtime import COMMIT_VARIABLE, git_commit, installed_version


def test_a_checkout_reports_its_head_commit(monkeypatch):
    monkeypatch.setenv(COMMIT_VARIABLE, "not-this")
    assert re.fullmatch(r"[0-9a-f]{40}(\+dirty)?", git_commit())


@pytest.mark.parametrize("named", ["0123abc", None])
def test_a_copy_without_git_reports_the_commit_it_was_told_or_none(tmp_path, monkeypatch, named):
    if named is None:
        monkeypatch.delenv(COMMIT_VARIABLE, raising=False)
    else:
        monkeypatch.setenv(COMMIT_VARIABLE, named)
    assert git_commit(tmp_path) == named


def test_a_missing_package_is_recorded_not_raised():
    assert torch.__version__.startswith(installed_version("torch"))
    assert installed_version("no-such-package-anomaly-bench") == "not installed"
