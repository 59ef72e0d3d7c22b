import lightning as L
import pytest
import torch

from anomaly_bench.data import OneClassDataModule
from anomaly_bench.data.batches import InMemoryImages
from anomaly_bench.data.loaders import DeviceBatches, EpochShuffle, device_batches


def synthetic(**kwargs) -> OneClassDataModule:
    module = OneClassDataModule(
        **{"dataset": "synthetic", "image_size": 16, "batch_size": 10, **kwargs}
    )
    module.setup()
    return module


def numbered_split(size: int) -> InMemoryImages:
    """Image i is filled with the value i, so a batch says which images it holds."""
    images = torch.arange(size, dtype=torch.uint8).view(size, 1, 1, 1).expand(size, 1, 4, 4)
    return InMemoryImages(images.contiguous(), torch.zeros(size).long(), torch.zeros(size).long())


def visited(loader: DeviceBatches) -> torch.Tensor:
    return torch.cat([((b.images[:, 0, 0, 0] + 1) * 127.5).round().long() for b in loader])


def epochs_of(module: OneClassDataModule, split: str, epochs: int) -> list[list]:
    loader = getattr(module, f"{split}_dataloader")()
    batches = []
    for epoch in range(epochs):
        if loader.sampler is not None and hasattr(loader.sampler, "set_epoch"):
            loader.sampler.set_epoch(epoch)
        batches.append(list(loader))
    return batches


@pytest.mark.parametrize("split", ["train", "test"])
def test_device_and_dataloader_paths_yield_the_same_batches_for_the_same_seed(split):
    fast = epochs_of(synthetic(input_path="device", seed=3), split, epochs=2)
    ordinary = epochs_of(synthetic(input_path="dataloader", seed=3), split, epochs=2)
    assert [len(e) for e in fast] == [len(e) for e in ordinary]
    for fast_epoch, ordinary_epoch in zip(fast, ordinary, strict=True):
        for a, b in zip(fast_epoch, ordinary_epoch, strict=True):
            assert torch.equal(a.images, b.images)
            assert torch.equal(a.labels, b.labels) and torch.equal(a.classes, b.classes)
    if split == "train":
        assert not torch.equal(fast[0][0].images, fast[1][0].images)


def test_an_epoch_visits_every_image_once_in_an_order_set_by_seed_and_epoch():
    loader = device_batches(numbered_split(95), 10, seed=0, device=torch.device("cpu"))
    first = visited(loader)
    assert sorted(first.tolist()) == list(range(95))
    loader.sampler.set_epoch(1)
    second = visited(loader)
    assert sorted(second.tolist()) == list(range(95)) and not torch.equal(first, second)
    loader.sampler.set_epoch(0)
    assert torch.equal(visited(loader), first)
    other_seed = device_batches(numbered_split(95), 10, seed=1, device=torch.device("cpu"))
    assert not torch.equal(visited(other_seed), first)


def test_seed_and_epoch_do_not_alias():
    shifted = EpochShuffle(50, seed=1)
    later = EpochShuffle(50, seed=0)
    later.set_epoch(1)
    assert not torch.equal(shifted.permutation(), later.permutation())


def test_only_a_trailing_training_batch_of_one_is_dropped():
    split = numbered_split(21)
    train = device_batches(split, 10, seed=0, device=torch.device("cpu"))
    assert len(train) == 2 and len(visited(train)) == 20
    evaluation = device_batches(split, 10, seed=None, device=torch.device("cpu"))
    assert len(evaluation) == 3 and visited(evaluation).tolist() == list(range(21))


def test_lightning_reshuffles_the_device_path_every_epoch():
    module = synthetic(batch_size=16)
    seen: list[torch.Tensor] = []

    class FirstBatches(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            if batch_idx == 0:
                seen.append(batch.images.clone())

    class Probe(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1))

        def training_step(self, batch, batch_idx):
            return (self.weight * batch.images.mean()).sum()

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.0)

    trainer = L.Trainer(
        max_epochs=2,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[FirstBatches()],
    )
    trainer.fit(Probe(), datamodule=module)
    expected = []
    for epoch in range(2):
        order = EpochShuffle(module.n_train, module.seed)
        order.set_epoch(epoch)
        expected.append(module.train_set.batch(order.permutation()[:16]).images)
    assert all(torch.equal(a, b) for a, b in zip(seen, expected, strict=True))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"input_path": "pinned"}, "input_path='pinned'.*allowed: device, dataloader"),
        ({"num_workers": -1}, "num_workers=-1"),
    ],
)
def test_bad_input_settings_name_the_value_and_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        OneClassDataModule(dataset="synthetic", **kwargs)
