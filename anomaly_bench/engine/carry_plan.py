"""Which files each device call carries: a call takes at most 64 MiB (the working tree
included), so the data a GPU run needs travels over several calls to a machine kept warm
between them (it keeps what earlier calls carried), files whole, in the manifest's order."""

from __future__ import annotations

import subprocess
from pathlib import Path

CALL_LIMIT_BYTES = 64 * 2**20
# Room kept free in every call for what changes between planning and calling (rows, logs).
MARGIN_BYTES = 2 * 2**20
# Paths one call may name to carry.
MAX_CARRY_PATHS = 8


def tree_bytes(repo: Path) -> int:
    """What travels with every call: the files git tracks and the untracked ones it does not
    ignore."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    return sum((repo / name.decode()).stat().st_size for name in listed if name)


def call_room(tree: int, limit: int = CALL_LIMIT_BYTES) -> int:
    """The bytes a call can carry beside the working tree, less the margin."""
    return limit - tree - MARGIN_BYTES


def carry_plan(
    files: list[tuple[str, int]], tree: int, limit: int = CALL_LIMIT_BYTES
) -> list[list[str]]:
    """The calls, each a list of the files it carries (at most MAX_CARRY_PATHS), filled in
    order; a file that fits no call beside the tree is refused naming the room there is."""
    room = call_room(tree, limit)
    calls: list[list[str]] = []
    used = 0
    for path, size in files:
        if size > room:
            raise ValueError(
                f"{path} ({size / 2**20:.1f} MiB) does not fit a call: {room / 2**20:.1f} MiB "
                f"are left beside the {tree / 2**20:.1f} MiB working tree"
            )
        if not calls or used + size > room or len(calls[-1]) == MAX_CARRY_PATHS:
            calls.append([])
            used = 0
        calls[-1].append(path)
        used += size
    return calls
