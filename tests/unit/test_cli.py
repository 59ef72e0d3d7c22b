"""The console command: one screen of help, every verb reaching its module, a bad verb named."""

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from anomaly_bench.cli import COMMANDS, main
from anomaly_bench.settings.command_line import DefaultsShown
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


class ParserBuiltError(Exception):
    """Raised where a verb would parse its arguments: the parser it built is what a test reads."""


def verb_parsers(verb: str, monkeypatch) -> list[argparse.ArgumentParser]:
    """The parser `anomaly-bench VERB` builds, and those of its own verbs (gpu-session run ...)."""
    built = []

    def keep(parser, *args, **kwargs):
        built.append(parser)
        raise ParserBuiltError

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", keep)
    with pytest.raises(ParserBuiltError):
        main([verb])
    subverbs = [a for a in built[0]._actions if isinstance(a, argparse._SubParsersAction)]
    return [built[0], *(parser for a in subverbs for parser in a.choices.values())]


@pytest.mark.parametrize("verb", [verb for verb in COMMANDS if verb != "train"])  # Hydra's help
def test_each_verbs_help_says_what_it_does_and_what_each_option_is(verb, monkeypatch):
    for parser in verb_parsers(verb, monkeypatch):
        about = parser.description
        assert about[0].isupper() and about.endswith((".", "?")), about
        assert "python -m" not in about and "anomaly-bench" not in about, about
        assert parser.formatter_class is DefaultsShown
        for action in parser._actions:
            if not isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                assert action.help, f"{parser.prog} {action.option_strings or action.dest}"


def test_predicts_help_reads_as_a_sentence_with_its_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Score image files, folders or globs with a finished run; one CSV line per image." in (
        text
    )
    assert "images scored at once (default: 64)" in text
    assert "(default: predictions.csv)" in text and "(default: None)" not in text


# Every verb's help, and a sub-verb's.
HELP_ASKED = [*(f"{verb} --help" for verb in COMMANDS), "gpu-session run --help"]
ASKS_FOR_EACH_VERBS_HELP = """
import contextlib, io, sys
from anomaly_bench.cli import main
for asked in sys.argv[1:]:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
        main(asked.split())
print(",".join(name for name in ("torch", "lightning", "pandas") if name in sys.modules))
"""


def test_every_verb_answers_help_without_loading_torch():
    """torch and Lightning take seconds to import, pandas one: a verb parses first, so `--help`
    and a mistyped option answer at once (docs/development.md has the figures)."""
    done = subprocess.run(
        [sys.executable, "-c", ASKS_FOR_EACH_VERBS_HELP, *HELP_ASKED],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("classes", ["x", "12", "1,,2", ""])
def test_the_demo_refuses_classes_digits_lacks_before_it_starts(classes, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["demo", "--classes", classes, "--results", "unused"])
    assert stopped.value.code == 2
    assert "allowed: comma-separated digits classes, 0 to 9" in capsys.readouterr().err


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`report --runs | head -1`: the pipe closes before the list is written."""
    rows = (
        {"status": "ok", "method": "iforest", "dataset": "digits", "protocol": "paper",
         "normal_class": 0, "seed": number, "auroc": 0.5,
         "run_key": f"iforest_digits_class0_paper_seed{number}"}
        for number in range(1500)
    )  # fmt: skip
    ResultsStore(tmp_path).path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    command = f"'{sys.executable}' -m anomaly_bench.cli report --results-dir '{tmp_path}' --runs"
    done = subprocess.run(
        f"{command} | head -1; exit ${{PIPESTATUS[0]}}",
        shell=True,
        executable="/bin/bash",
        capture_output=True,
        text=True,
    )
    assert done.stdout == "### 1500 finished run(s)\n"
    assert "Traceback" not in done.stderr and done.returncode == 141


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
