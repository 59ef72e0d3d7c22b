"""Readers that turn each dataset's files into uint8 tensors, decoded once.

Every reader returns the dataset's own train and test splits as `uint8 [N, C, H, W]` tensors so
the data module never touches PIL or per-item Python after setup. MNIST and Fashion-MNIST go
through torchvision (so `download=True` works for users with internet and verifies the files a
user already has); CIFAR-10 is read from its pickles directly because the offline copies here
carry other md5s than torchvision's list, and because only some training batches may be present.
"""

from __future__ import annotations

import logging
import math
import os
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor
from torchvision.datasets import MNIST, FashionMNIST

log = logging.getLogger(__name__)

DATA_DIR_ENV = "ANOMALY_BENCH_DATA"
DEFAULT_DATA_DIR = "data"


class DatasetNotFoundError(FileNotFoundError):
    """Raised when a dataset's files are neither on disk nor downloadable."""


@dataclass(frozen=True)
class ImageSplits:
    """A dataset's official train and test splits, decoded: images uint8 [N, C, H, W]."""

    train_images: Tensor
    train_labels: Tensor
    test_images: Tensor
    test_labels: Tensor


@dataclass(frozen=True)
class DatasetSpec:
    """What the data module needs to know about a dataset before reading any file."""

    channels: int
    class_names: tuple[str, ...]
    read: Callable[[Path, bool], ImageSplits]


def default_data_dir() -> Path:
    """The data folder: `$ANOMALY_BENCH_DATA` when set, else `data/` under the working directory."""
    return Path(os.environ.get(DATA_DIR_ENV, DEFAULT_DATA_DIR))


def _missing(name: str, looked_in: Path, cause: BaseException) -> DatasetNotFoundError:
    return DatasetNotFoundError(
        f"{name} was not found in {looked_in.resolve()} and could not be downloaded "
        f"({type(cause).__name__}: {cause}). Either let it download (needs internet), or put the "
        f"files there in torchvision's layout (`make data` copies ../shared/datasets/ into data/), "
        f"or point data_dir / ${DATA_DIR_ENV} at a folder that has them."
    )


def check_idx_file(path: Path) -> None:
    """Refuse an unpacked IDX file whose size differs from what its own header promises.

    torchvision reads such a file without naming it (a reshape error); this names the file.
    """
    with path.open("rb") as f:
        header = f.read(4)
        n_dims = header[3] if len(header) == 4 else 0
        dims = f.read(4 * n_dims)
    if len(header) < 4 or len(dims) < 4 * n_dims:
        raise ValueError(f"dataset file {path} is truncated: its IDX header is incomplete")
    expected = (
        4
        + 4 * n_dims
        + math.prod(int.from_bytes(dims[i : i + 4], "big") for i in range(0, len(dims), 4))
    )
    size = path.stat().st_size
    if size != expected:
        raise ValueError(
            f"dataset file {path} is truncated or corrupt: {size} bytes where its header "
            f"promises {expected}; delete it (and its .gz) to download or copy it again"
        )


def _read_torchvision_idx(dataset_cls: type, name: str) -> Callable[[Path, bool], ImageSplits]:
    """A reader for the torchvision datasets stored as IDX files (MNIST, Fashion-MNIST)."""

    def read(root: Path, download: bool) -> ImageSplits:
        for unpacked in sorted((root / dataset_cls.__name__ / "raw").glob("*-ubyte")):
            check_idx_file(unpacked)
        try:
            train = dataset_cls(str(root), train=True, download=download)
            test = dataset_cls(str(root), train=False, download=download)
        except (RuntimeError, OSError) as err:
            raise _missing(name, root / dataset_cls.__name__ / "raw", err) from err
        return ImageSplits(
            train_images=train.data.unsqueeze(1).contiguous(),
            train_labels=train.targets.long(),
            test_images=test.data.unsqueeze(1).contiguous(),
            test_labels=test.targets.long(),
        )

    return read


# The only globals an official CIFAR-10 batch refers to: numpy's array reconstruction (module
# `numpy.core` before numpy 2, `numpy._core` after). Its dict, lists, ints and bytes need none.
CIFAR_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }
)


class RefusedGlobalError(pickle.UnpicklingError):
    """A pickle asked for a global outside CIFAR_GLOBALS: it would run code of the file's choice."""


class CifarUnpickler(pickle.Unpickler):
    """Unpickles only what the official CIFAR-10 format contains, so a data file never runs code."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in CIFAR_GLOBALS:
            raise RefusedGlobalError(f"{module}.{name}")
        return super().find_class(module, name)


def _read_cifar_batch(path: Path) -> tuple[Tensor, Tensor]:
    try:
        with path.open("rb") as f:
            batch = CifarUnpickler(f, encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except RefusedGlobalError as err:
        allowed = ", ".join(sorted(f"{m}.{n}" for m, n in CIFAR_GLOBALS))
        raise ValueError(
            f"CIFAR-10 batch file {path} refused: it asks to load the global {err}, which could "
            f"run code; a CIFAR-10 batch needs only {allowed}"
        ) from None
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"CIFAR-10 batch file {path} is unreadable or truncated: {err}") from err
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(labels) != len(data):
        raise ValueError(
            f"CIFAR-10 batch file {path} has data of shape {data.shape} and {len(labels)} labels; "
            "expected N x 3072 with N labels"
        )
    return torch.from_numpy(data.reshape(-1, 3, 32, 32).copy()), torch.from_numpy(labels)


def read_cifar10(root: Path, download: bool) -> ImageSplits:
    """Read whichever `data_batch_*` pickles exist plus `test_batch`; download only if none do."""
    folder = root / "cifar-10-batches-py"
    if not (folder / "test_batch").exists() and download:
        from torchvision.datasets import CIFAR10

        try:
            CIFAR10(str(root), train=True, download=True)
        except (RuntimeError, OSError) as err:
            raise _missing("CIFAR-10", folder, err) from err
    train_files = sorted(folder.glob("data_batch_*"))
    if not train_files or not (folder / "test_batch").exists():
        raise _missing("CIFAR-10", folder, FileNotFoundError("no data_batch_* or test_batch"))
    parts = [_read_cifar_batch(path) for path in train_files]
    test_images, test_labels = _read_cifar_batch(folder / "test_batch")
    train_images = torch.cat([images for images, _ in parts])
    log.info(
        "CIFAR-10: %d training images from %d batch files (%s)",
        len(train_images),
        len(train_files),
        ", ".join(p.name for p in train_files),
    )
    return ImageSplits(
        train_images=train_images,
        train_labels=torch.cat([labels for _, labels in parts]),
        test_images=test_images,
        test_labels=test_labels,
    )


def read_digits(root: Path, download: bool) -> ImageSplits:
    """scikit-learn's bundled 8x8 digits (no files, no network) with a fixed stratified 2:1 split.

    The split is seeded with a constant, not the run's seed, so that every run of every method sees
    the same test images, as with the official splits of the other datasets.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    images = np.rint(digits.images * (255.0 / 16.0)).astype(np.uint8)[:, None]
    labels = digits.target.astype(np.int64)
    train_x, test_x, train_y, test_y = train_test_split(
        images, labels, test_size=1 / 3, stratify=labels, random_state=0
    )
    return ImageSplits(
        torch.from_numpy(train_x),
        torch.from_numpy(train_y),
        torch.from_numpy(test_x),
        torch.from_numpy(test_y),
    )


SYNTHETIC_SIZE = 16
SYNTHETIC_TRAIN_PER_CLASS = 48
SYNTHETIC_TEST_PER_CLASS = 24


def _synthetic_images(labels: Tensor, generator: torch.Generator) -> Tensor:
    """Class c is a bright 4x4 square in cell c of a 4x4 grid over a noisy dark background."""
    n = len(labels)
    images = torch.randn(n, 1, SYNTHETIC_SIZE, SYNTHETIC_SIZE, generator=generator) * 20 + 40
    brightness = 200 + torch.rand(n, generator=generator) * 55
    for i, label in enumerate(labels.tolist()):
        row, col = divmod(label, 4)
        images[i, 0, row * 4 : row * 4 + 4, col * 4 : col * 4 + 4] = brightness[i]
    return images.clamp(0, 255).round().to(torch.uint8)


def read_synthetic(root: Path, download: bool) -> ImageSplits:
    """A tiny, easily separable ten-class dataset for tests: it needs no files and runs in ms."""
    generator = torch.Generator().manual_seed(0)
    # Classes interleaved, so that even a one-batch smoke run sees normal and anomalous images.
    train_labels = torch.arange(10).repeat(SYNTHETIC_TRAIN_PER_CLASS)
    test_labels = torch.arange(10).repeat(SYNTHETIC_TEST_PER_CLASS)
    return ImageSplits(
        _synthetic_images(train_labels, generator),
        train_labels,
        _synthetic_images(test_labels, generator),
        test_labels,
    )


_DIGIT_NAMES = tuple(str(i) for i in range(10))

DATASETS: dict[str, DatasetSpec] = {
    "mnist": DatasetSpec(1, _DIGIT_NAMES, _read_torchvision_idx(MNIST, "MNIST")),
    "fmnist": DatasetSpec(
        1,
        (
            "T-shirt",
            "Trouser",
            "Pullover",
            "Dress",
            "Coat",
            "Sandal",
            "Shirt",
            "Sneaker",
            "Bag",
            "Ankle boot",
        ),
        _read_torchvision_idx(FashionMNIST, "Fashion-MNIST"),
    ),
    "cifar10": DatasetSpec(
        3,
        ("Plane", "Car", "Bird", "Cat", "Deer", "Dog", "Frog", "Horse", "Ship", "Truck"),
        read_cifar10,
    ),
    "digits": DatasetSpec(1, _DIGIT_NAMES, read_digits),
    "synthetic": DatasetSpec(1, tuple(f"square{i}" for i in range(10)), read_synthetic),
}


def dataset_spec(name: str) -> DatasetSpec:
    """The spec of a dataset by name, or an error that lists the known names."""
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; allowed: {', '.join(DATASETS)}")
    return DATASETS[name]


def load_dataset(
    name: str, data_dir: Path | str | None = None, download: bool = True
) -> ImageSplits:
    """Read a dataset's splits from `data_dir` (default: `default_data_dir()`)."""
    spec = dataset_spec(name)
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    splits = spec.read(root, download)
    if splits.train_images.shape[1] != spec.channels:
        raise ValueError(
            f"{name}: read {splits.train_images.shape[1]} channels, expected {spec.channels}"
        )
    return splits
