"""The parser every verb starts from: a description in sentences, each option's default shown."""

import argparse

import pytest

from anomaly_bench.settings.command_line import DefaultsShown, description, verb_parser


@pytest.mark.parametrize(
    ("doc", "shown"),
    [
        (
            "`python -m anomaly_bench.predict` / `anomaly-bench predict`: score image files\n"
            "with a finished run; one CSV line per image.\n\nThe work is elsewhere.",
            "Score image files with a finished run; one CSV line per image.",
        ),
        ("`make demo`: digits, in minutes.", "Digits, in minutes."),
        (
            "Does it move results?\nEach run beside its twin.",
            "Does it move results? Each run beside its twin.",
        ),
        ("The queue's next runs, to a deadline", "The queue's next runs, to a deadline."),
        (
            "The store: `docs/results/`, from its rows.",
            "The store: `docs/results/`, from its rows.",
        ),
    ],
)
def test_the_description_is_the_first_paragraph_without_the_names_usage_gives(doc, shown):
    assert description(doc) == shown


def test_a_default_is_shown_where_it_says_something_and_nowhere_else():
    parser = argparse.ArgumentParser(formatter_class=DefaultsShown)
    parser.add_argument("--steps", type=int, default=30, help="timed steps")
    parser.add_argument("--warmup", type=int, default=0, help="untimed steps")
    parser.add_argument("--run-key", help="the run (default: the store's only run)")
    parser.add_argument("--device", help="the device")
    parser.add_argument("--dry-run", action="store_true", help="run nothing")
    parser.add_argument("--where", action="append", default=[], help="a condition")
    parser.add_argument("images", nargs="*", default=["a.png"], help="what to score")
    text = " ".join(parser.format_help().split())
    assert "timed steps (default: 30)" in text
    assert "untimed steps (default: 0)" in text  # 0 is a value, not "off"
    assert "the run (default: the store's only run) --device" in text  # not said twice
    for silent in ("(default: None)", "(default: False)", "(default: [])", "(default: ['a"):
        assert silent not in text


def test_a_verbs_parser_reads_its_module_docstring():
    parser = verb_parser("`anomaly-bench x`: draw\nthe pictures.\n\nDetails.")
    parser.add_argument("--size", type=int, default=8, help="pixels")
    text = " ".join(parser.format_help().split())
    assert "Draw the pictures. options:" in text and "pixels (default: 8)" in text
    assert "Details" not in text
