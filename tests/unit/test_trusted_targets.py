"""What a saved config may build: the package's own targets, and those of the user's own configs
only while that folder is given where the tool runs."""

import pytest

from anomaly_bench.settings.environment import CONFIGS_VARIABLE
from anomaly_bench.settings.trusted_targets import check_targets

MINE = {"model": {"_target_": "mydetectors.mine.Mine"}}
FOREIGN = {"data": {"extra": {"_target_": "pathlib.Path.write_text"}}}


def test_ones_own_configs_add_the_targets_they_name_and_no_other(tmp_path, monkeypatch):
    (tmp_path / "conf" / "model").mkdir(parents=True)
    (tmp_path / "conf" / "model" / "mine.yaml").write_text(
        "# @package _global_\nmodel:\n  _target_: mydetectors.mine.Mine\n"
    )
    check_targets({"model": {"_target_": "anomaly_bench.models.ganomaly.Ganomaly"}}, "run a")
    with pytest.raises(ValueError, match=r"run a: _target_ 'mydetectors\.mine\.Mine' is not one"):
        check_targets(MINE, "run a")
    monkeypatch.setenv(CONFIGS_VARIABLE, str(tmp_path / "conf"))
    check_targets(MINE, "run a")
    with pytest.raises(ValueError, match=r"'pathlib\.Path\.write_text' is not one of"):
        check_targets(FOREIGN, "run a")


def test_a_configs_folder_that_is_not_one_is_refused_naming_it(tmp_path, monkeypatch):
    monkeypatch.setenv(CONFIGS_VARIABLE, str(tmp_path / "missing"))
    with pytest.raises(ValueError, match=rf"{CONFIGS_VARIABLE}='.*missing' is not a folder"):
        check_targets(MINE, "run a")
