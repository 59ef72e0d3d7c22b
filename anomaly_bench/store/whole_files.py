"""Files written whole or not at all: a run's checkpoint, a store's pictures, predict's CSV and
ONNX graph, a speed cell's page. Each is written under a temporary name beside its target and
renamed onto it only once complete, so a run killed or failing while it writes leaves the
previous file (a user's earlier predictions, the last good checkpoint) in place, never half of
the new one."""

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
