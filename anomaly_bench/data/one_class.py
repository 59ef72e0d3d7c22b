"""One normal class against the rest: the data module every method trains and is scored on.

Images are decoded once, resized once and kept in memory as uint8; `input_path` chooses how
batches reach the model (anomaly_bench/data/loaders.py): sliced on the training device (default)
or through an ordinary DataLoader.
"""

from __future__ import annotations

import logging
from pathlib import Path

import torch
import torch.nn.functional as F
from lightning import LightningDataModule
from torch import Tensor
from torch.utils.data import DataLoader

from anomaly_bench.data.batches import InMemoryImages
from anomaly_bench.data.loaders import INPUT_PATHS, DeviceBatches, device_batches, ordinary_loader
from anomaly_bench.data.sources import (
    DatasetSpec,
    ImageSplits,
    check_train_batches,
    dataset_spec,
    load_dataset,
)
from anomaly_bench.data.subsample import balanced_subsample
from anomaly_bench.settings.checks import NATURAL, POSITIVE_INT, SHARE_BELOW_ONE, check_choice
from anomaly_bench.settings.protocols import (
    LEAVE_ONE_OUT,
    PROTOCOLS,
    class_key,
    default_normal_class,
)

log = logging.getLogger(__name__)

RESIZE_CHUNK = 4096


def resize_uint8(images: Tensor, size: int) -> Tensor:
    """Resize a uint8 image stack once, in chunks so CIFAR-size stacks never need a float copy."""
    if images.shape[-1] == size and images.shape[-2] == size:
        return images
    chunks = [
        F.interpolate(chunk.float(), size=(size, size), mode="bilinear", antialias=True)
        .round_()
        .clamp_(0, 255)
        .to(torch.uint8)
        for chunk in images.split(RESIZE_CHUNK)
    ]
    return torch.cat(chunks)


class OneClassDataModule(LightningDataModule):
    """One-class splits under a named protocol (DESIGN.md, Protocols).

    `paper` (the Mem_GANomaly paper, sec. 4.1): train on the normal class of the training split,
    test on the training split's other classes plus the whole test split. `standard` (Deep SVDD):
    test on the whole test split. `leave_one_out` (the GANomaly code, `lib/data.py` with its
    default seed): `anomalous_class` is the anomaly and every other class normal; train on the
    normal classes of the training split, test on the whole test split plus the training split's
    anomalous images. `val_fraction` of the normal training images is held out, never trained
    on, so that thresholds can be chosen without the test set.
    """

    def __init__(
        self,
        dataset: str = "digits",
        normal_class: int | None = None,
        protocol: str = "paper",
        anomalous_class: int | None = None,
        image_size: int = 32,
        batch_size: int = 64,
        eval_batch_size: int = 64,
        seed: int = 0,
        val_fraction: float = 0.0,
        data_dir: str | Path | None = None,
        download: bool = True,
        input_path: str = "device",
        num_workers: int = 0,
        train_batches: int | None = None,
    ) -> None:
        super().__init__()
        spec = self.describe(dataset)
        check_train_batches(dataset, spec.train_files, train_batches)
        check_choice("protocol", protocol, PROTOCOLS)
        check_choice("input_path", input_path, INPUT_PATHS)
        if normal_class is None:
            normal_class = default_normal_class(protocol)
        self._check_classes(protocol, normal_class, anomalous_class, len(spec.class_names))
        for key, value in (
            ("image_size", image_size),
            ("batch_size", batch_size),
            ("eval_batch_size", eval_batch_size),
        ):
            POSITIVE_INT.check(key, value)
        NATURAL.check("num_workers", num_workers)
        NATURAL.check("seed", seed)
        SHARE_BELOW_ONE.check("val_fraction", val_fraction)
        self.dataset, self.normal_class, self.protocol = dataset, normal_class, protocol
        self.anomalous_class = anomalous_class
        self.image_size, self.batch_size, self.eval_batch_size = (
            image_size,
            batch_size,
            eval_batch_size,
        )
        self.seed, self.val_fraction = seed, val_fraction
        self.data_dir, self.download = data_dir, download
        self.input_path, self.num_workers = input_path, num_workers
        self.train_batches = train_batches
        self.num_channels = spec.channels
        self.class_names = spec.class_names
        self.train_set: InMemoryImages | None = None
        self.val_set: InMemoryImages | None = None
        self.test_set: InMemoryImages | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.test_set is not None:
            return
        splits = self.load_splits()
        is_anomalous = self.is_anomalous(splits.train_labels)
        normal = splits.train_images[~is_anomalous]
        if len(normal) == 0:
            raise ValueError(f"{self.dataset}: {self.subject()} has no normal training images")
        order = torch.randperm(len(normal), generator=torch.Generator().manual_seed(self.seed))
        n_val = round(self.val_fraction * len(normal))
        if n_val >= len(normal):
            raise ValueError(
                f"val_fraction={self.val_fraction!r} holds out all {len(normal)} normal training "
                f"images of {self.subject()}, leaving none to train on; allowed: a share that "
                "leaves at least one"
            )
        normal_classes = splits.train_labels[~is_anomalous][order]
        normal = resize_uint8(normal[order], self.image_size)
        self.train_set = self._subset(normal[n_val:], normal_classes[n_val:])
        self.val_set = self._subset(normal[:n_val], normal_classes[:n_val])

        test_images, test_classes = splits.test_images, splits.test_labels
        if self.protocol != "standard":
            test_images = torch.cat([test_images, splits.train_images[is_anomalous]])
            test_classes = torch.cat([test_classes, splits.train_labels[is_anomalous]])
        self.test_set = self._subset(resize_uint8(test_images, self.image_size), test_classes)
        if self.n_test_normal == 0 or self.n_test_normal == self.n_test:
            raise ValueError(
                f"{self.dataset} {self.subject()}: the test split needs normal and anomalous "
                f"images, got {self.n_test_normal} normal of {self.n_test}"
            )
        log.info(
            "%s %s, protocol %s: %d train, %d val, %d test (%d normal)",
            self.dataset,
            self.subject(),
            self.protocol,
            self.n_train,
            self.n_val,
            self.n_test,
            self.n_test_normal,
        )

    @staticmethod
    def _check_classes(
        protocol: str, normal_class: int | None, anomalous_class: int | None, n_classes: int
    ) -> None:
        """One class names the run, through the key its protocol reads (`class_key`); the other
        key is refused rather than silently ignored."""
        classes = {"normal_class": normal_class, "anomalous_class": anomalous_class}
        used = class_key(protocol)
        (unused,) = set(classes) - {used}
        if classes[unused] is not None:
            raise ValueError(
                f"{unused}={classes[unused]!r} is not allowed with protocol={protocol}; "
                f"the class this protocol reads is {used}=K"
            )
        check_choice(used, classes[used], range(n_classes))

    def is_anomalous(self, classes: Tensor) -> Tensor:
        """Which images are anomalies under the protocol, by their dataset class."""
        if self.protocol == LEAVE_ONE_OUT:
            return classes == self.anomalous_class
        return classes != self.normal_class

    def subject(self) -> str:
        """The run's class in words, for logs and errors."""
        if self.protocol == LEAVE_ONE_OUT:
            name = self.class_names[self.anomalous_class]
            return f"anomalous class {self.anomalous_class} ({name}), the others normal"
        return f"class {self.normal_class} ({self.class_names[self.normal_class]})"

    def class_name_field(self) -> dict[str, str]:
        """The row field that names the run's class: `normal_class_name` or
        `anomalous_class_name`."""
        key = class_key(self.protocol)
        return {f"{key}_name": self.class_names[getattr(self, key)]}

    def describe(self, dataset: str) -> DatasetSpec:
        """The dataset's channels and class names, known before any file is read."""
        return dataset_spec(dataset)

    def load_splits(self) -> ImageSplits:
        """The dataset's official splits, decoded (read once per setup)."""
        return load_dataset(self.dataset, self.data_dir, self.download, self.train_batches)

    def _subset(self, images: Tensor, classes: Tensor) -> InMemoryImages:
        labels = self.is_anomalous(classes).long()
        return InMemoryImages(images, labels, classes.long())

    @property
    def n_train(self) -> int:
        return len(self._ready(self.train_set))

    @property
    def n_val(self) -> int:
        return len(self._ready(self.val_set))

    @property
    def n_test(self) -> int:
        return len(self._ready(self.test_set))

    @property
    def n_test_normal(self) -> int:
        return int((self._ready(self.test_set).labels == 0).sum())

    @staticmethod
    def _ready(subset: InMemoryImages | None) -> InMemoryImages:
        if subset is None:
            raise RuntimeError("call setup() before asking for the splits")
        return subset

    def _device(self) -> torch.device:
        """Where the model trains: the trainer's device, or the CPU outside a Trainer."""
        if self.trainer is None:
            return torch.device("cpu")
        return self.trainer.strategy.root_device

    def _loader(
        self, subset: InMemoryImages, batch_size: int, shuffle: bool
    ) -> DeviceBatches | DataLoader:
        seed = self.seed if shuffle else None
        if self.input_path == "device":
            return device_batches(subset, batch_size, seed, self._device())
        return ordinary_loader(subset, batch_size, seed, self._device(), self.num_workers)

    def train_dataloader(self) -> DeviceBatches | DataLoader:
        return self._loader(self._ready(self.train_set), self.batch_size, shuffle=True)

    def val_dataloader(self) -> DeviceBatches | DataLoader | list:
        subset = self._ready(self.val_set)
        return self._loader(subset, self.eval_batch_size, shuffle=False) if len(subset) else []

    def test_dataloader(self) -> DeviceBatches | DataLoader:
        return self._loader(self._ready(self.test_set), self.eval_batch_size, shuffle=False)

    def test_subsample_dataloader(self, size: int | None, seed: int) -> DeviceBatches | DataLoader:
        """The test split (`size=None`) or a fixed balanced subsample of it (`balanced_subsample`),
        in the split's order: where a learning curve reads its points."""
        test = self._ready(self.test_set)
        if size is None:
            return self.test_dataloader()
        at = balanced_subsample(test.labels, test.classes, size, seed)
        return self._loader(test.subset(at), self.eval_batch_size, shuffle=False)
