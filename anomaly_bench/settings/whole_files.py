"""Files written whole or not at all: a run's checkpoint, every picture and figure, predict's CSV,
maps and ONNX graph, a speed cell's page, the report's and the reference pages' text. It sits in
the bottom layer because every layer that writes (evaluation's figures, the store, the engine,
reporting) needs it. Each is written under a temporary name beside its target and renamed onto it
only once complete, so a run killed or failing while it writes leaves the previous file (a user's
earlier predictions, the last good checkpoint) in place, never half of the new one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def written_whole(path: Path) -> Iterator[Path]:
    """A path beside `path` to write to; renamed onto `path` when the block ends, removed when it
    raises. The name carries the process id, so two processes writing one target never share
    a temporary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_whole(path: Path, text: str) -> None:
    """A text file written whole (`written_whole`): a page, a table, a bench's JSON."""
    with written_whole(path) as partial:
        partial.write_text(text)


def check_target(option: str, path: Path) -> None:
    """Refuse, before the work that produces it, a file that could not be written at `path`: a
    folder there, a file where one of its folders should be, a folder without write permission
    (so hours of scoring never end in a traceback over where the result goes)."""
    allowed = "allowed: a file's path in a writable folder"
    if path.is_dir():
        raise ValueError(f"{option} {path} is a folder; {allowed}")
    folder = next(parent for parent in path.absolute().parents if parent.exists())
    if not folder.is_dir():
        raise ValueError(f"{option} {path}: {folder} is a file, not a folder; {allowed}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"{option} {path}: {folder} is not writable; {allowed}")
