"""Which dataset files a machine has, checked against a `SHA256SUMS` manifest (the lines
`sha256sum` writes: `<hex>  <path>`), so a grid never starts on missing or damaged data.

A GPU machine gets the data in pieces (a call carries at most 64 MiB, CIFAR-10 is 186 MB), so
what is there is checked before anything trains; sizes are compared first, so a file cut short
in transfer is named without hashing it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from anomaly_bench.settings.experiments import DATA_FOLDERS

CHUNK = 1 << 20


@dataclass(frozen=True)
class FileState:
    """One manifest entry on this machine: `ok`, `missing` or `damaged` (another checksum)."""

    path: str
    state: str


def read_manifest(manifest: Path, under: str = "") -> dict[str, str]:
    """{relative path: sha256} of the manifest's entries whose path starts with `under`."""
    entries = {}
    for number, line in enumerate(manifest.read_text().splitlines(), 1):
        if not line.strip():
            continue
        digest, sep, path = line.partition("  ")
        if not sep or len(digest) != 64:
            raise ValueError(f"{manifest}:{number}: {line!r} is not a `<sha256>  <path>` line")
        if path.startswith(under):
            entries[path] = digest
    return entries


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def check_files(root: Path, manifest: dict[str, str]) -> list[FileState]:
    """Each manifest file under `root`: present with its checksum, missing, or damaged."""
    states = []
    for path, digest in sorted(manifest.items()):
        file = root / path
        if not file.is_file():
            states.append(FileState(path, "missing"))
        else:
            states.append(FileState(path, "ok" if sha256(file) == digest else "damaged"))
    return states


def complete_datasets(data_dir: Path, manifest_path: Path) -> set[str]:
    """The datasets whose every manifest file is here intact."""
    if not manifest_path.is_file():
        return set()
    states = check_files(data_dir, read_manifest(manifest_path))
    return {
        name
        for name, folder in DATA_FOLDERS.items()
        if all(s.state == "ok" for s in states if s.path.startswith(folder))
        and any(s.path.startswith(folder) for s in states)
    }
