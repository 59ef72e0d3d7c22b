"""The learning curve's subsample: balanced, stratified, fixed, and the datamodule serves it."""

import pytest
import torch

from anomaly_bench.data import OneClassDataModule
from anomaly_bench.data.subsample import balanced_subsample


def paper_like_split() -> tuple[torch.Tensor, torch.Tensor]:
    """100 normals of class 0 among 2,700 anomalies of classes 1-9 (the paper protocol's ~4 %)."""
    classes = torch.cat([torch.zeros(100), torch.arange(1, 10).repeat_interleave(300)]).long()
    order = torch.randperm(len(classes), generator=torch.Generator().manual_seed(3))
    classes = classes[order]
    return (classes != 0).long(), classes


def test_half_normal_half_anomalous_and_each_anomalous_class_in_its_share():
    labels, classes = paper_like_split()
    picked = balanced_subsample(labels, classes, 180, seed=0)
    assert len(picked) == 180 and picked.unique().numel() == 180
    assert torch.equal(picked, picked.sort().values)
    assert int((labels[picked] == 0).sum()) == 90
    assert torch.bincount(classes[picked][labels[picked] == 1]).tolist()[1:] == [10] * 9


def test_fewer_normals_than_half_are_all_taken_and_anomalies_fill_the_rest():
    labels, classes = paper_like_split()
    picked = balanced_subsample(labels, classes, 1000, seed=0)
    assert len(picked) == 1000 and int((labels[picked] == 0).sum()) == 100


def test_the_same_images_for_the_same_seed_and_others_for_another():
    labels, classes = paper_like_split()
    first = balanced_subsample(labels, classes, 400, seed=0)
    assert torch.equal(first, balanced_subsample(labels, classes, 400, seed=0))
    assert not torch.equal(first, balanced_subsample(labels, classes, 400, seed=1))


def test_a_subsample_as_large_as_the_split_is_the_split():
    labels, classes = paper_like_split()
    assert torch.equal(balanced_subsample(labels, classes, 5000, 0), torch.arange(len(labels)))


@pytest.mark.parametrize("size", [1, 2.5, True, "4000"])
def test_a_bad_size_is_refused_naming_it(size):
    labels, classes = paper_like_split()
    with pytest.raises(ValueError, match=f"subsample={size!r} is not allowed"):
        balanced_subsample(labels, classes, size, 0)


def test_the_datamodule_serves_the_subsample_in_the_test_splits_order():
    module = OneClassDataModule(dataset="synthetic", image_size=16, eval_batch_size=7)
    module.setup()
    batches = list(module.test_subsample_dataloader(40, seed=0))
    labels = torch.cat([b.labels for b in batches])
    assert len(labels) == 40 and int((labels == 0).sum()) == 20
    whole = list(module.test_subsample_dataloader(None, seed=0))
    assert sum(len(b.labels) for b in whole) == module.n_test
