"""Readers that turn each dataset's files into uint8 tensors, decoded once.

Every reader returns the dataset's own train and test splits as `uint8 [N, C, H, W]` tensors so
the data module never touches PIL or per-item Python after setup. MNIST and Fashion-MNIST go
through torchvision (so `download=True` works for users with internet and verifies the files a
user already has); CIFAR-10 is read from its pickles directly because the offline copies here
carry other md5s than torchvision's list, and because only some training batches may be present.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import math
import os
import pickle
import zlib
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
    """A dataset's official train and test splits, decoded: images uint8 [N, C, H, W]; the
    sources name the files each split came from, for errors about them."""

    train_images: Tensor
    train_labels: Tensor
    test_images: Tensor
    test_labels: Tensor
    train_source: str = "the training split"
    test_source: str = "the test split"


@dataclass(frozen=True)
class DatasetSpec:
    """What the data module needs to know about a dataset before reading any file."""

    channels: int
    class_names: tuple[str, ...]
    read: Callable[..., ImageSplits]
    # How many official training files the dataset comes in, for `train_batches`; None: one.
    train_files: int | None = None


def check_train_batches(name: str, files: int | None, train_batches: int | None) -> None:
    """`data.train_batches` counts a dataset's official training `files` (CIFAR-10's five
    `data_batch_*`); a dataset that comes in one file (`files=None`) takes only null."""
    if train_batches is None:
        return
    if files is None:
        raise ValueError(
            f"data.train_batches={train_batches!r} is not allowed for {name}; allowed: null "
            f"({name}'s training split is one file)"
        )
    if isinstance(train_batches, bool) or train_batches not in range(1, files + 1):
        raise ValueError(
            f"data.train_batches={train_batches!r} is not allowed for {name}; allowed: an "
            f"integer from 1 to {files}, or null"
        )


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


def check_gzip_file(path: Path) -> None:
    """Refuse an archive that does not decompress whole, naming it (torchvision would take it for
    missing and try to download, listing its mirrors)."""
    try:
        with gzip.open(path, "rb") as f:
            while f.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(
            f"dataset file {path} is corrupt ({type(err).__name__}: {err}); delete it to "
            "download or copy it again"
        ) from None


def _read_torchvision_idx(dataset_cls: type, name: str) -> Callable[[Path, bool], ImageSplits]:
    """A reader for the torchvision datasets stored as IDX files (MNIST, Fashion-MNIST)."""

    def read(root: Path, download: bool) -> ImageSplits:
        raw = root / dataset_cls.__name__ / "raw"
        for unpacked in sorted(raw.glob("*-ubyte")):
            check_idx_file(unpacked)
        try:
            train = dataset_cls(str(root), train=True, download=download)
            test = dataset_cls(str(root), train=False, download=download)
        except (RuntimeError, OSError) as err:
            for archive in sorted(raw.glob("*.gz")):
                check_gzip_file(archive)
            raise _missing(name, raw, err) from err
        return ImageSplits(
            train_images=train.data.unsqueeze(1).contiguous(),
            train_labels=train.targets.long(),
            test_images=test.data.unsqueeze(1).contiguous(),
            test_labels=test.targets.long(),
            train_source=f"{raw / 'train-images-idx3-ubyte'} (and its labels)",
            test_source=f"{raw / 't10k-images-idx3-ubyte'} (and its labels)",
        )

    return read


# The only globals an official CIFAR-10 batch refers to: numpy's array reconstruction (module
# `numpy.core` before numpy 2, `numpy._core` after). Its dict, lists, ints and bytes need none,
# except in a batch re-saved by Python 3 with protocol 2, which rebuilds bytes through
# `_codecs.encode` (a text codec: it computes bytes, it runs no code of the file's choice).
CIFAR_GLOBALS = frozenset(
    {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("_codecs", "encode"),
    }
)
# The official file names; another `data_batch_*` (a backup, a copy) is never read as training.
CIFAR_TRAIN_FILES = tuple(f"data_batch_{i}" for i in range(1, 6))


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
        data = np.asarray(batch[b"data"])
        labels = np.asarray(batch[b"labels"])
    except RefusedGlobalError as err:
        allowed = ", ".join(sorted(f"{m}.{n}" for m, n in CIFAR_GLOBALS))
        raise ValueError(
            f"CIFAR-10 batch file {path} refused: it asks to load the global {err}, which could "
            f"run code; a CIFAR-10 batch needs only {allowed}"
        ) from None
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"CIFAR-10 batch file {path} is unreadable or truncated: {err}") from err
    if data.dtype != np.uint8 or labels.dtype.kind not in "iu":
        raise ValueError(
            f"CIFAR-10 batch file {path} is corrupt: data of dtype {data.dtype} and labels of "
            f"dtype {labels.dtype}; the format holds uint8 pixels and integer labels"
        )
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != (len(data),):
        raise ValueError(
            f"CIFAR-10 batch file {path} has data of shape {data.shape} and labels of shape "
            f"{labels.shape}; expected N x 3072 with N labels"
        )
    images = torch.from_numpy(data.reshape(-1, 3, 32, 32).copy())
    return images, torch.from_numpy(labels.astype(np.int64))


def read_cifar10(root: Path, download: bool, batches: int | None = None) -> ImageSplits:
    """Read `data_batch_1` to `data_batch_<batches>` plus `test_batch`, refusing to go on when
    one of them is missing (a run never trains on fewer images than its config says); with
    `batches=None`, whichever official batches exist. Download only if no test batch exists."""
    folder = root / "cifar-10-batches-py"
    if not (folder / "test_batch").exists() and download:
        from torchvision.datasets import CIFAR10

        try:
            CIFAR10(str(root), train=True, download=True)
        except (RuntimeError, OSError) as err:
            raise _missing("CIFAR-10", folder, err) from err
    wanted = CIFAR_TRAIN_FILES if batches is None else CIFAR_TRAIN_FILES[:batches]
    train_files = [folder / name for name in wanted if (folder / name).exists()]
    absent = [name for name in wanted if not (folder / name).exists()]
    if batches is not None and absent and (folder / "test_batch").exists():
        raise DatasetNotFoundError(
            f"CIFAR-10: data.train_batches={batches} reads {', '.join(wanted)} from {folder}; "
            f"missing: {', '.join(absent)}. Copy every batch (`make data`) or set "
            "data.train_batches to the number of batches you have (a row records n_train)"
        )
    others = sorted({p.name for p in folder.glob("data_batch_*")} - set(CIFAR_TRAIN_FILES))
    if others:
        log.warning(
            "CIFAR-10: ignored %s in %s: not an official batch name (%s)",
            ", ".join(others),
            folder,
            ", ".join(CIFAR_TRAIN_FILES),
        )
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
        train_source=", ".join(str(p) for p in train_files),
        test_source=str(folder / "test_batch"),
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
        train_files=len(CIFAR_TRAIN_FILES),
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
    name: str,
    data_dir: Path | str | None = None,
    download: bool = True,
    train_batches: int | None = None,
) -> ImageSplits:
    """Read a dataset's splits from `data_dir` (default: `default_data_dir()`); of a dataset
    that comes in several training files, the first `train_batches` (None: those present)."""
    spec = dataset_spec(name)
    check_train_batches(name, spec.train_files, train_batches)
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    files = {} if train_batches is None else {"batches": train_batches}
    splits = spec.read(root, download, **files)
    if splits.train_images.shape[1] != spec.channels:
        raise ValueError(
            f"{name}: read {splits.train_images.shape[1]} channels, expected {spec.channels}"
        )
    for images, labels, source in (
        (splits.train_images, splits.train_labels, splits.train_source),
        (splits.test_images, splits.test_labels, splits.test_source),
    ):
        check_split(images, labels, len(spec.class_names), f"{name}: {source}")
    refuse_test_images_in_training(splits, name)
    return splits


def check_split(images: Tensor, labels: Tensor, n_classes: int, source: str) -> None:
    """Refuse a split whose files decoded into something no official file holds: labels outside
    the classes, a label per image missing or extra, images that are all one value."""
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(
            f"{source} is corrupt: images of dtype {images.dtype} and shape "
            f"{tuple(images.shape)}; expected uint8 N x C x H x W"
        )
    if labels.shape != (len(images),):
        raise ValueError(
            f"{source} is corrupt: {len(images)} images but labels of shape {tuple(labels.shape)}"
        )
    outside = (labels < 0) | (labels >= n_classes)
    if outside.any():
        raise ValueError(
            f"{source} is corrupt: {int(outside.sum())} labels outside 0..{n_classes - 1} "
            f"(for example {int(labels[outside][0])})"
        )
    if len(images) and bool((images == images.flatten()[0]).all()):
        raise ValueError(
            f"{source} is corrupt: every image is blank (all pixels {int(images.flatten()[0])})"
        )


def _image_keys(images: Tensor) -> list[bytes]:
    return [hashlib.blake2b(image.tobytes(), digest_size=16).digest() for image in images.numpy()]


def refuse_test_images_in_training(splits: ImageSplits, name: str) -> None:
    """Refuse a training split that holds test images (a test file copied under a training
    name): no official split shares an image with its test split (checked on MNIST,
    Fashion-MNIST, CIFAR-10 and the digits)."""
    test = set(_image_keys(splits.test_images))
    shared = sum(key in test for key in _image_keys(splits.train_images))
    if shared:
        raise ValueError(
            f"{name}: {shared} training images are also test images ({splits.train_source}); "
            f"a test file was copied as training data? Replace it with the official file"
        )
