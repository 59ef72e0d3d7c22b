"""The parser every verb starts from, so that `anomaly-bench VERB --help` reads the same way for
all of them: what the verb does in whole sentences, and each option's default beside it."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

# The names a module docstring opens with (`python -m anomaly_bench.x` / `anomaly-bench x`:),
# which the usage line already gives.
COMMAND_NAMES = re.compile(r"^(?:`[^`]+`\s*/?\s*)+:\s*")


def description(doc: str) -> str:
    """The docstring's first paragraph as one line, without the command names it opens with."""
    paragraph = " ".join(doc.strip().split("\n\n")[0].split())
    text = COMMAND_NAMES.sub("", paragraph)
    ending = "" if text.endswith((".", "?")) else "."
    return text[:1].upper() + text[1:] + ending


def says_nothing(default: object) -> bool:
    """Unset, off or empty: `(default: None)` would only add noise."""
    if isinstance(default, list | tuple):
        return not default
    return any(default is value for value in (None, False, argparse.SUPPRESS))


class DefaultsShown(argparse.HelpFormatter):
    """argparse's ArgumentDefaultsHelpFormatter, but silent where a default says nothing (None,
    off) or where the help already words it."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if says_nothing(action.default) or not action.option_strings or "default" in text:
            return action.help
        return f"{text} (default: %(default)s)"


def verb_parser(doc: str) -> argparse.ArgumentParser:
    return argparse.ArgumentParser(description=description(doc), formatter_class=DefaultsShown)


def add_run_choice(parser: argparse.ArgumentParser, example: str, default: str) -> None:
    """The options that choose finished runs of a results store for a verb that rebuilds them
    (pictures, memory-sparsity): the store, starts of run keys, and where the runs trained."""
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="the results store of the runs"
    )
    parser.add_argument(
        "--run-key",
        action="append",
        help=f"only this run, or every run whose key starts so ({example}); repeat for more "
        f"(default: {default})",
    )
    parser.add_argument(
        "--runs-dir",
        type=Path,
        help="the folder the runs trained in, where a row's relative paths (checkpoint, scores, "
        "data) start (default: found from --results-dir: the results store's path less the "
        "results_dir the run wrote to)",
    )
