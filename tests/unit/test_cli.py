"""The console command: one screen of help, every verb reaching its module, a bad verb named."""

import subprocess
import sys
from pathlib import Path

import pytest

from anomaly_bench.cli import COMMANDS, main
from anomaly_bench.store.results import ResultsStore


def test_help_lists_every_verb_on_one_screen(capsys):
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert all(f"  {verb} " in text for verb in COMMANDS)
    assert len(text.splitlines()) <= 24 and max(map(len, text.splitlines())) <= 100


def test_no_verb_prints_the_usage_and_fails(capsys):
    assert main([]) == 2
    assert "usage: anomaly-bench VERB" in capsys.readouterr().out


def test_an_unknown_verb_is_named_with_the_allowed_ones(capsys):
    assert main(["trian"]) == 2
    assert "unknown verb 'trian'; allowed: train, demo, predict, report" in capsys.readouterr().err


def test_report_runs_through_the_command(tmp_path, capsys):
    ResultsStore(tmp_path).append(
        {"status": "ok", "method": "iforest", "dataset": "digits", "protocol": "paper",
         "normal_class": 0, "seed": 0, "auroc": 0.75, "run_key": "k"}
    )  # fmt: skip
    main(["report", "--results-dir", str(tmp_path)])
    assert "| 0 | 0.7500 |" in capsys.readouterr().out


@pytest.mark.parametrize("verb", list(COMMANDS))
def test_each_verbs_help_fits_one_screen(verb, capsys):
    with pytest.raises(SystemExit) as stopped:
        main([verb, "--help"])
    assert stopped.value.code in (0, None)
    text = capsys.readouterr().out
    assert f"anomaly-bench {verb}" in text and len(text.splitlines()) <= 50


def test_the_installed_script_is_the_command():
    script = Path(sys.executable).with_name("anomaly-bench")
    if not script.exists():
        pytest.skip("the package is not installed with its console script (make install)")
    shown = subprocess.run([script, "--version"], capture_output=True, text=True, check=True)
    assert shown.stdout.startswith("anomaly-bench 0.")


@pytest.mark.parametrize(
    ("argv", "refused"),
    [
        (["demo", "--epochs", "0"], "--epochs: '0' is not allowed; allowed: a positive integer"),
        (["predict", "a.png", "--batch-size", "0"], "'0' is not allowed; allowed: a positive"),
        (["bench", "--train-steps", "two"], "'two' is not allowed; allowed: a positive integer"),
        (["bench", "--score-warmup", "-1"], "'-1' is not allowed; allowed: an integer >= 0"),
        (["gpu-session", "run", "--out", "o", "--jobs", "0"], "'0' is not allowed; allowed: a"),
        (["gpu-session", "run", "--out", "o", "--minutes", "nan"], "allowed: a positive number"),
    ],
)
def test_a_count_of_nothing_is_refused_naming_the_value_before_anything_runs(
    argv, refused, tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert refused in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
