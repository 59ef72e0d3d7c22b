import pickle

import numpy as np
import pytest
import torch

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
