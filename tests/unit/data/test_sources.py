import pickle

import numpy as np
import pytest
import torch

from anomaly_bench.data import OneClassDataModule
from anomaly_bench.data.sources import DATASETS, DatasetNotFoundError, load_dataset


def write_cifar_batch(path, n, label_offset=0):
    data = np.random.default_rng(n).integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [(i + label_offset) % 10 for i in range(n)]
    with path.open("wb") as f:
        pickle.dump({b"data": data, b"labels": labels}, f)
    return data, labels


def test_cifar10_reads_every_batch_present_without_torchvision_md5(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    first, _ = write_cifar_batch(folder / "data_batch_1", 20)
    write_cifar_batch(folder / "data_batch_3", 10, label_offset=3)
    write_cifar_batch(folder / "test_batch", 15)

    splits = load_dataset("cifar10", tmp_path, download=False)

    assert splits.train_images.shape == (30, 3, 32, 32)
    assert splits.train_images.dtype == torch.uint8
    assert splits.test_images.shape == (15, 3, 32, 32)
    # R plane first, then G, then B, each row-major 32x32.
    assert torch.equal(splits.train_images[0, 1].flatten(), torch.from_numpy(first[0, 1024:2048]))
    assert splits.train_labels[20].item() == 3


def test_truncated_cifar_batch_names_the_file(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    write_cifar_batch(folder / "data_batch_1", 5)
    write_cifar_batch(folder / "test_batch", 5)
    raw = (folder / "data_batch_1").read_bytes()
    (folder / "data_batch_1").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="data_batch_1"):
        load_dataset("cifar10", tmp_path, download=False)


@pytest.mark.parametrize("name", ["mnist", "fmnist", "cifar10"])
def test_missing_data_says_where_it_looked_and_how_to_get_it(tmp_path, name):
    with pytest.raises(DatasetNotFoundError) as err:
        load_dataset(name, tmp_path, download=False)
    assert str(tmp_path) in str(err.value)
    assert "make data" in str(err.value)


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ValueError, match=r"'svhn'.*mnist, fmnist, cifar10, digits, synthetic"):
        load_dataset("svhn")


def test_digits_are_offline_uint8_with_a_fixed_stratified_split():
    first, second = load_dataset("digits"), load_dataset("digits")
    assert first.train_images.dtype == torch.uint8 and first.train_images.shape[1:] == (1, 8, 8)
    assert len(first.train_images) + len(first.test_images) == 1797
    assert torch.equal(first.test_labels, second.test_labels)
    assert set(first.test_labels.tolist()) == set(range(10))


def test_synthetic_classes_differ_where_their_square_is():
    splits = load_dataset("synthetic")
    assert splits.train_images.shape == (480, 1, 16, 16)
    class_means = torch.stack(
        [splits.train_images[splits.train_labels == c].float().mean(0) for c in range(10)]
    )
    brightest_cell = class_means.flatten(1).argmax(1)
    assert len(set(brightest_cell.tolist())) == 10


def test_every_dataset_declares_channels_and_ten_classes():
    for spec in DATASETS.values():
        assert spec.channels in (1, 3)
        assert len(spec.class_names) == 10


def write_idx_images(path, n):
    header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in (n, 28, 28))
    path.write_bytes(header + bytes(n * 28 * 28))


def test_a_truncated_idx_file_is_named_with_its_expected_size(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx_images(raw / "train-images-idx3-ubyte", 10)
    data = (raw / "train-images-idx3-ubyte").read_bytes()
    (raw / "train-images-idx3-ubyte").write_bytes(data[:-100])
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte is truncated or corrupt: 7756 "):
        load_dataset("mnist", tmp_path, download=False)


def write_idx(path, array):
    """An IDX file as MNIST's: magic (uint8, n dims), then each dim, then the bytes."""
    dims = b"".join(d.to_bytes(4, "big") for d in array.shape)
    path.write_bytes(bytes([0, 0, 8, array.ndim]) + dims + array.astype(np.uint8).tobytes())


def write_mnist(root, train_labels=None, train_images=None, test_images=None):
    """A tiny MNIST in torchvision's layout: 30 training and 20 test images, random pixels."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    parts = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (30, 28, 28)),
        "train-labels-idx1-ubyte": np.arange(30) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (20, 28, 28)),
        "t10k-labels-idx1-ubyte": np.arange(20) % 10,
    }
    for name, given in (
        ("train-labels-idx1-ubyte", train_labels),
        ("train-images-idx3-ubyte", train_images),
        ("t10k-images-idx3-ubyte", test_images),
    ):
        if given is not None:
            parts[name] = given(parts)
    for name, array in parts.items():
        write_idx(raw / name, array)
    return raw


def test_a_tiny_mnist_in_torchvisions_layout_reads(tmp_path):
    write_mnist(tmp_path)
    splits = load_dataset("mnist", tmp_path, download=False)
    assert splits.train_images.shape == (30, 1, 28, 28) and len(splits.test_labels) == 20


BAD_MNIST = {
    "labels out of range": (
        {"train_labels": lambda p: np.where(np.arange(30) < 5, 200, p["train-labels-idx1-ubyte"])},
        r"train-images-idx3-ubyte \(and its labels\) is corrupt: 5 labels outside 0..9 \(for "
        r"example 200\)",
    ),
    "images zeroed": (
        {"train_images": lambda p: np.zeros((30, 28, 28))},
        "train-images-idx3-ubyte .* is corrupt: every image is blank",
    ),
    "test images copied as training": (
        {"train_images": lambda p: np.concatenate(
            [p["t10k-images-idx3-ubyte"], p["train-images-idx3-ubyte"][:10]])},
        "mnist: 20 training images are also test images",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD_MNIST))
def test_a_corrupt_mnist_file_is_named_and_refused(tmp_path, case):
    kwargs, message = BAD_MNIST[case]
    write_mnist(tmp_path, **kwargs)
    with pytest.raises(ValueError, match=message):
        load_dataset("mnist", tmp_path, download=False)


def test_a_corrupt_archive_is_named_as_corrupt_not_as_missing(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):  # fmt: skip
        (raw / f"{name}.gz").write_bytes(b"\x1f\x8b\x08\x00" + bytes(40))
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte.gz is corrupt"):
        load_dataset("mnist", tmp_path, download=False)


def cifar_folder(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    write_cifar_batch(folder / "data_batch_1", 20)
    write_cifar_batch(folder / "test_batch", 15)
    return folder


def rewrite_cifar(path, change):
    with path.open("rb") as f:
        batch = pickle.load(f)
    change(batch)
    with path.open("wb") as f:
        pickle.dump(batch, f)


BAD_CIFAR = {
    "pixels as float32 in [0, 1]": (
        lambda b: b.update({b"data": b[b"data"].astype(np.float32) / 255}),
        "data_batch_1 is corrupt: data of dtype float32",
    ),
    "pixels as int16": (
        lambda b: b.update({b"data": b[b"data"].astype(np.int16) * 2}),
        "data_batch_1 is corrupt: data of dtype int16",
    ),
    "labels 10-19": (
        lambda b: b.update({b"labels": [label + 10 for label in b[b"labels"]]}),
        "data_batch_1 is corrupt: 20 labels outside 0..9",
    ),
    "a label -1": (
        lambda b: b[b"labels"].__setitem__(3, -1),
        r"data_batch_1 is corrupt: 1 labels outside 0..9 \(for example -1\)",
    ),
    "labels as strings": (
        lambda b: b.update({b"labels": [str(label) for label in b[b"labels"]]}),
        "data_batch_1 is corrupt: .* labels of dtype <U1",
    ),
    "one label short": (
        lambda b: b[b"labels"].pop(),
        r"data_batch_1 has data of shape \(20, 3072\) and labels of shape \(19,\)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CIFAR))
def test_a_corrupt_cifar_batch_is_named_and_refused(tmp_path, case):
    change, message = BAD_CIFAR[case]
    folder = cifar_folder(tmp_path)
    rewrite_cifar(folder / "data_batch_1", change)
    with pytest.raises(ValueError, match=message):
        load_dataset("cifar10", tmp_path, download=False)


def test_only_official_cifar_batch_names_are_read_and_test_copies_are_refused(tmp_path, caplog):
    folder = cifar_folder(tmp_path)
    (folder / "data_batch_1.bak").write_bytes((folder / "data_batch_1").read_bytes())
    assert len(load_dataset("cifar10", tmp_path, download=False).train_labels) == 20
    assert "ignored data_batch_1.bak" in caplog.text
    (folder / "data_batch_2").write_bytes((folder / "test_batch").read_bytes())
    with pytest.raises(ValueError, match="cifar10: 15 training images are also test images"):
        load_dataset("cifar10", tmp_path, download=False)


def test_a_batch_resaved_by_python_3_with_protocol_2_reads(tmp_path):
    folder = cifar_folder(tmp_path)
    with (folder / "data_batch_1").open("rb") as f:
        batch = pickle.load(f)
    with (folder / "data_batch_1").open("wb") as f:
        pickle.dump(batch, f, protocol=2)
    assert b"_codecs" in (folder / "data_batch_1").read_bytes()
    assert len(load_dataset("cifar10", tmp_path, download=False).train_labels) == 20


def test_train_batches_reads_that_many_official_batches_and_refuses_a_missing_one(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    write_cifar_batch(folder / "data_batch_1", 20)
    write_cifar_batch(folder / "data_batch_2", 10)
    write_cifar_batch(folder / "test_batch", 15)
    assert len(load_dataset("cifar10", tmp_path, False, train_batches=1).train_images) == 20
    assert len(load_dataset("cifar10", tmp_path, False, train_batches=2).train_images) == 30
    with pytest.raises(DatasetNotFoundError, match=r"missing: data_batch_3, data_batch_4\. Copy"):
        load_dataset("cifar10", tmp_path, download=False, train_batches=4)


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [("mnist", 1, "allowed: null"), ("cifar10", 6, "from 1 to 5"), ("cifar10", 0, "from 1 to 5")],
)
def test_a_train_batches_the_dataset_cannot_have_is_refused_before_reading(name, value, allowed):
    with pytest.raises(ValueError, match=f"data.train_batches={value} is not allowed.*{allowed}"):
        OneClassDataModule(name, train_batches=value)
