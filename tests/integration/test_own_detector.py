"""A detector of one's own, outside the package: its module in the user's own package, its yaml
in a folder of the user's own configs (`ANOMALY_BENCH_CONFIGS`); train, report and predict take it
as they take the package's, and nothing builds it from a results folder without that folder set."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from anomaly_bench.cli import main
from anomaly_bench.settings.environment import CONFIGS_VARIABLE
from tests.conftest import CONF_DIR

DEVELOPMENT = CONF_DIR.parents[1] / "docs" / "development.md"
YAML = """\
# @package _global_
model:
  _target_: mydetectors.template.Template
  n_templates: 4
  lr: 0.01
trainer:
  max_epochs: 2
"""


def documented_detector() -> str:
    """The ten-line detector docs/development.md shows (its first Python block), as written."""
    return re.search(r"```python\n(.*?)```", DEVELOPMENT.read_text(), re.S).group(1)


@pytest.fixture
def own_project(tmp_path: Path) -> Path:
    package = tmp_path / "mydetectors"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "template.py").write_text(documented_detector())
    (tmp_path / "my_conf" / "model").mkdir(parents=True)
    (tmp_path / "my_conf" / "model" / "template.yaml").write_text(YAML)
    return tmp_path


def anomaly_bench(
    project: Path, *args: str, configs: str | None = "my_conf"
) -> subprocess.CompletedProcess:
    """The console command in the user's project, their package importable, their configs'
    folder (relative to the project) given or not."""
    env = os.environ | {"PYTHONPATH": str(project), "OMP_NUM_THREADS": "1"}
    env.pop(CONFIGS_VARIABLE, None)
    if configs is not None:
        env[CONFIGS_VARIABLE] = str(project / configs)
    command = [sys.executable, "-m", "anomaly_bench.cli", *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)


def test_a_detector_of_ones_own_trains_reports_and_predicts_as_the_packages_do(
    own_project, monkeypatch, capsys
):
    results = own_project / "results"
    trained = anomaly_bench(
        own_project, "train", "model=template", "data=synthetic", f"paths.results_dir={results}"
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    assert "template synthetic class 0: AUROC" in trained.stderr + trained.stdout
    # Its column is named as a package method's is (by what differs from its yaml's defaults).
    reported = anomaly_bench(own_project, "report", "--results-dir", str(results))
    assert "| class | template |" in reported.stdout, reported.stdout + reported.stderr
    # Without the folder of one's own configs, nothing is built from the row's saved config.
    monkeypatch.syspath_prepend(str(own_project))
    monkeypatch.chdir(own_project)  # where the run trained: its checkpoint's path starts there
    monkeypatch.delenv(CONFIGS_VARIABLE, raising=False)
    image = own_project / "image.png"
    image.write_bytes((CONF_DIR.parents[1] / "docs" / "demo" / "demo_cd.png").read_bytes())
    args = ["predict", str(image), "--results-dir", str(results), "--output", "-"]
    with pytest.raises(SystemExit):
        main(args)
    refused = capsys.readouterr().err
    assert "_target_ 'mydetectors.template.Template' is not one of" in refused
    assert f"{CONFIGS_VARIABLE}=<their folder>" in refused
    monkeypatch.setenv(CONFIGS_VARIABLE, str(own_project / "my_conf"))
    main(args)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("path,score,flag") and lines[1].startswith(str(image))


def test_a_model_that_no_config_folder_holds_is_refused_by_hydra_with_the_options(own_project):
    unknown = anomaly_bench(own_project, "train", "model=template", "data=synthetic", configs=None)
    assert unknown.returncode != 0
    assert "Could not find 'model/template'" in unknown.stderr


def test_a_config_folder_that_is_not_one_is_refused_naming_it(own_project):
    done = anomaly_bench(own_project, "train", "data=synthetic", configs="no_such_folder")
    assert done.returncode != 0
    assert f"{CONFIGS_VARIABLE}='{own_project / 'no_such_folder'}' is not a folder" in done.stderr
