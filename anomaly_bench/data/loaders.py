"""The two input paths: batches sliced on the training device, or an ordinary DataLoader.

`device` (the default) keeps each split on the device that trains on it and takes a batch as
one index_select of a uint8 tensor: no worker processes, no collation, no per-image Python, no
host-to-device copy per step. `dataloader` is the ordinary torch path (a per-image Dataset,
default collation, optional workers, pinned memory on CUDA), kept so the two can be compared
(`make bench`). Both draw the same order from `EpochShuffle`, so for the same seed they yield the
same batches.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, Sampler

from anomaly_bench.data.batches import Batch, InMemoryImages

INPUT_PATHS = ("device", "dataloader")


class EpochShuffle(Sampler[int]):
    """A fresh permutation per epoch, a function of (seed, epoch) only.

    Lightning calls `set_epoch` on a loader's `sampler` at every epoch start, so a resumed run
    sees the same order as an uninterrupted one. The (seed, epoch) pair seeds the generator
    through numpy's SeedSequence, so seed 0 epoch 1 and seed 1 epoch 0 do not share an order.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed, self.epoch = size, seed, 0
        self._resume: tuple[int, int] | None = None

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def resume_at(self, epoch: int, samples_done: int) -> None:
        """Start `epoch`'s order after its first `samples_done` images, once: a run interrupted
        mid-epoch goes on with exactly the batches it had not trained on."""
        self._resume = (epoch, samples_done)

    def take_skip(self) -> int:
        """Images of this epoch's order to leave out (0 but right after `resume_at`)."""
        if self._resume is None or self._resume[0] != self.epoch:
            return 0
        skip, self._resume = self._resume[1], None
        return skip

    def permutation(self) -> Tensor:
        state = np.random.SeedSequence([self.seed, self.epoch]).generate_state(1, np.uint64)[0]
        generator = torch.Generator().manual_seed(int(state))
        return torch.randperm(self.size, generator=generator)

    def __iter__(self) -> Iterator[int]:
        skip = self.take_skip()
        return iter(self.permutation()[skip:].tolist())

    def __len__(self) -> int:
        return self.size


def drops_last(size: int, batch_size: int, shuffle: bool) -> bool:
    """Only a trailing training batch of one is dropped: BatchNorm cannot train on one image."""
    return shuffle and size % batch_size == 1


class DeviceBatches:
    """Batches sliced from a split that already lives on the training device.

    It has a DataLoader's `sampler` and `batch_sampler` attributes because Lightning looks for
    them: it calls `sampler.set_epoch` at each epoch start and reads both when it checks whether
    an evaluation loader shuffles.
    """

    batch_sampler = None

    def __init__(
        self, split: InMemoryImages, batch_size: int, sampler: EpochShuffle | None
    ) -> None:
        self.split, self.batch_size, self.sampler = split, batch_size, sampler
        drop = drops_last(len(split), batch_size, shuffle=sampler is not None)
        self.n_batches = len(split) // batch_size if drop else -(-len(split) // batch_size)

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self) -> Iterator[Batch]:
        order, skip = None, 0
        if self.sampler is not None:
            skip = self.sampler.take_skip()
            order = self.sampler.permutation().to(self.split.device)
        for start in range(skip, self.n_batches * self.batch_size, self.batch_size):
            stop = start + self.batch_size
            yield self.split.batch(slice(start, stop) if order is None else order[start:stop])


class ImageItems(Dataset):
    """One image per item, for the ordinary DataLoader path."""

    def __init__(self, split: InMemoryImages) -> None:
        self.split = split

    def __len__(self) -> int:
        return len(self.split)

    def __getitem__(self, index: int) -> Batch:
        return self.split.batch(index)


def device_batches(
    split: InMemoryImages, batch_size: int, seed: int | None, device: torch.device
) -> DeviceBatches:
    """The fast path; `seed=None` keeps the split's order (evaluation)."""
    on_device = split.on(device)
    sampler = None if seed is None else EpochShuffle(len(split), seed)
    return DeviceBatches(on_device, batch_size, sampler)


def ordinary_loader(
    split: InMemoryImages, batch_size: int, seed: int | None, device: torch.device, workers: int
) -> DataLoader:
    """The DataLoader path; `seed=None` keeps the split's order (evaluation)."""
    shuffle = seed is not None
    return DataLoader(
        ImageItems(split),
        batch_size=batch_size,
        sampler=EpochShuffle(len(split), seed) if shuffle else None,
        drop_last=drops_last(len(split), batch_size, shuffle),
        num_workers=workers,
        persistent_workers=workers > 0,
        pin_memory=device.type == "cuda",
    )
