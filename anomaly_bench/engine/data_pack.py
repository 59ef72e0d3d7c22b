"""The datasets packed for device calls: one xz-compressed tar, cut into parts of a call's size.

A device call carries at most 64 MiB with the working tree, and the tree grows with every
committed row and picture (2.4 MB when the carry plan was written, 7.7 MB at 3e7c1ff): once two
of CIFAR-10's 31 MB batches no longer fit beside it, its 186 MB of whole files need six calls.
Compressed (xz brings CIFAR-10's pickles to about 80 %) and cut into parts that each fill a call,
they need three. The parts travel in `.carry/` (ignored by git); the machine, which keeps what
earlier calls carried while it stays warm, joins and unpacks them before the queue checks every
file against the manifest, so a missing or damaged part only ever holds its dataset's runs back.
"""

from __future__ import annotations

import lzma
import tarfile
from pathlib import Path

PACK_DIR = Path(".carry")
ARCHIVE = "data.tar.xz"
# xz's fastest preset: packing CIFAR-10 took two minutes here (one core, training beside it)
# and brought its pickles to 80 % of their size.
PRESET = 1


def part_name(index: int) -> str:
    return f"{ARCHIVE}.part{index:02d}"


def pack(root: Path, names: list[str], out: Path, part_bytes: int) -> list[Path]:
    """The files `names` (paths under `root`) as one xz tar in `out`, cut into parts of at most
    `part_bytes` each; earlier parts there are removed first."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob(f"{ARCHIVE}*"):
        old.unlink()
    archive = out / ARCHIVE
    with tarfile.open(archive, "w:xz", preset=PRESET) as tar:
        for name in names:
            tar.add(root / name, arcname=name, recursive=False)
    parts = []
    with archive.open("rb") as whole:
        while data := whole.read(part_bytes):
            parts.append(out / part_name(len(parts)))
            parts[-1].write_bytes(data)
    archive.unlink()
    return parts


def unpack(parts_dir: Path, dest: Path) -> list[str]:
    """Join the parts in `parts_dir` in order and extract the plain files they hold under
    `dest`; the names extracted. The archive is untrusted input: anything but a plain file, or a
    name that would land outside `dest`, is refused (tarfile's `data` filter). Parts that end
    early (one not carried yet) extract what they hold whole and say what is missing."""
    parts = sorted(parts_dir.glob(f"{ARCHIVE}.part*"))
    if not parts:
        return []
    joined = parts_dir / ARCHIVE
    with joined.open("wb") as whole:
        for part in parts:
            whole.write(part.read_bytes())
    extracted = []
    try:
        with tarfile.open(joined, "r:xz") as tar:
            for member in tar:
                if not member.isfile():
                    raise ValueError(
                        f"{member.name}: not a plain file; the data pack holds only files"
                    )
                tar.extract(member, dest, filter="data")
                extracted.append(member.name)
    except (EOFError, lzma.LZMAError, tarfile.ReadError) as err:
        raise ValueError(
            f"the data pack in {parts_dir} ends early after {len(parts)} parts "
            f"({type(err).__name__}: {err}); carry its missing parts"
        ) from err
    finally:
        joined.unlink()
    return extracted
