"""The data packed for device calls: parts that each fit a call, joined and unpacked on the
machine into the same files, and an archive that is untrusted input."""

from __future__ import annotations

import io
import random
import tarfile
from pathlib import Path

import pytest

from anomaly_bench.engine.data_pack import ARCHIVE, pack, part_name, unpack


def write_files(root: Path) -> list[str]:
    """Three files of random (incompressible) bytes, 1,000 to 3,000 of them."""
    names = ["SHA256SUMS", "cifar-10-batches-py/data_batch_1", "cifar-10-batches-py/test_batch"]
    draw = random.Random(0)
    for index, name in enumerate(names):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(draw.randbytes(1000 * (index + 1)))
    return names


def test_the_parts_each_fit_their_size_and_unpack_into_the_same_files(tmp_path):
    names = write_files(tmp_path / "here")
    (tmp_path / "here" / "not_packed").write_text("left behind")
    parts = pack(tmp_path / "here", names, tmp_path / "carry", part_bytes=2500)
    assert len(parts) == 3 and all(part.stat().st_size <= 2500 for part in parts)
    assert not (tmp_path / "carry" / ARCHIVE).exists()  # only the parts travel
    assert unpack(tmp_path / "carry", tmp_path / "there") == names
    for name in names:
        assert (tmp_path / "there" / name).read_bytes() == (tmp_path / "here" / name).read_bytes()
    assert not (tmp_path / "there" / "not_packed").exists()
    assert unpack(tmp_path / "nothing", tmp_path / "there") == []


def test_a_pack_missing_its_last_part_says_so(tmp_path):
    names = write_files(tmp_path / "here")
    parts = pack(tmp_path / "here", names, tmp_path / "carry", part_bytes=2500)
    parts[-1].unlink()  # the last file's end
    with pytest.raises(ValueError, match=rf"ends early after {len(parts) - 1} parts"):
        unpack(tmp_path / "carry", tmp_path / "there")


def test_a_crafted_pack_cannot_write_outside_the_data_folder(tmp_path):
    """A name climbing out is refused; an absolute one lands inside (tarfile's `data` filter)."""
    for name, data in (("/absolute", b"kept"), ("../outside", b"evil")):
        member = tarfile.TarInfo(name)
        member.size = 4
        packed = io.BytesIO()
        with tarfile.open(fileobj=packed, mode="w:xz") as tar:
            tar.addfile(member, io.BytesIO(data))
        (tmp_path / "carry").mkdir(exist_ok=True)
        (tmp_path / "carry" / part_name(0)).write_bytes(packed.getvalue())
        if name == "../outside":
            with pytest.raises(tarfile.OutsideDestinationError):
                unpack(tmp_path / "carry", tmp_path / "there")
        else:
            assert unpack(tmp_path / "carry", tmp_path / "there") == [name]
    assert (tmp_path / "there" / "absolute").read_bytes() == b"kept"
    assert not (tmp_path / "outside").exists()


def test_a_pack_holding_a_link_is_refused(tmp_path):
    link = tarfile.TarInfo("cifar-10-batches-py/data_batch_1")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    packed = io.BytesIO()
    with tarfile.open(fileobj=packed, mode="w:xz") as tar:
        tar.addfile(link)
    (tmp_path / "carry").mkdir()
    (tmp_path / "carry" / part_name(0)).write_bytes(packed.getvalue())
    with pytest.raises(ValueError, match="data_batch_1: not a plain file"):
        unpack(tmp_path / "carry", tmp_path / "there")
    assert not (tmp_path / "there" / "cifar-10-batches-py" / "data_batch_1").exists()
