"""Scoring with BatchNorm on each batch's own statistics (the reference GANomaly code's test pass):
a score then depends on its batch-mates, the model's running statistics survive it, and the
orders the reference's loaders give are the ones read."""

import pytest
import torch
from torch import nn

from anomaly_bench.data.batches import Batch, InMemoryImages
from anomaly_bench.engine.batch_statistics import SHUFFLE_SEED, in_order
from anomaly_bench.evaluation.scoring import on_batch_statistics, score_split
from anomaly_bench.models.ganomaly import Ganomaly


def tiny_ganomaly() -> Ganomaly:
    torch.manual_seed(0)
    return Ganomaly(image_size=16, in_channels=1, latent_dim=16, width=16)


def batch_of(images: torch.Tensor) -> Batch:
    return Batch(images, torch.zeros(len(images), dtype=torch.long), torch.zeros(len(images)))


def first_score(model: Ganomaly, images: torch.Tensor, batchnorm: str) -> float:
    return score_split(model, [batch_of(images)], batchnorm=batchnorm)["scores"][0].item()


def test_on_batch_statistics_a_score_depends_on_its_batch_mates_on_running_ones_it_does_not():
    model = tiny_ganomaly()
    torch.manual_seed(1)
    image = torch.rand(1, 1, 16, 16) * 2 - 1
    quiet_mates = torch.zeros(7, 1, 16, 16)
    loud_mates = torch.rand(7, 1, 16, 16) * 2 - 1
    with_quiet, with_loud = torch.cat([image, quiet_mates]), torch.cat([image, loud_mates])
    assert first_score(model, with_quiet, "running") == first_score(model, with_loud, "running")
    quiet, loud = first_score(model, with_quiet, "batch"), first_score(model, with_loud, "batch")
    assert abs(quiet - loud) > 1e-3 * max(abs(quiet), abs(loud))


def test_scoring_on_batch_statistics_leaves_the_model_scoring_as_before():
    model = tiny_ganomaly()
    images = torch.rand(16, 1, 16, 16) * 2 - 1
    before = score_split(model, [batch_of(images)])["scores"]
    buffers = {name: value.clone() for name, value in model.named_buffers()}
    on_batch = score_split(model, [batch_of(images)], batchnorm="batch")["scores"]
    assert not torch.equal(on_batch, before)
    assert torch.equal(score_split(model, [batch_of(images)])["scores"], before)
    for name, value in model.named_buffers():
        assert torch.equal(value, buffers[name]), name
    assert model.training  # the mode it was in: a fresh module trains


def test_a_model_without_batchnorm_and_an_unknown_choice_are_refused_naming_them():
    no_batchnorm = on_batch_statistics(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="Linear has no BatchNorm layer"), no_batchnorm:
        pass
    unknown = "batchnorm='train' is not allowed; allowed: running, batch"
    with pytest.raises(ValueError, match=unknown):
        score_split(tiny_ganomaly(), [], batchnorm="train")


def split_of(labels: list[int]) -> InMemoryImages:
    n = len(labels)
    images = torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1)
    return InMemoryImages(images, torch.tensor(labels), torch.arange(n))


def test_normal_first_puts_every_normal_image_first_each_group_in_the_split_order():
    ordered = in_order(split_of([1, 0, 1, 1, 0, 0, 1]), "normal_first")
    assert ordered.labels.tolist() == [0, 0, 0, 1, 1, 1, 1]
    assert ordered.classes.tolist() == [1, 4, 5, 0, 2, 3, 6]
    assert ordered.images.flatten().tolist() == [1, 4, 5, 0, 2, 3, 6]  # images follow labels


def test_shuffled_is_one_fixed_permutation_of_the_whole_split():
    split = split_of([0, 1] * 50)
    shuffled = in_order(split, "shuffled")
    expected = torch.randperm(100, generator=torch.Generator().manual_seed(SHUFFLE_SEED))
    assert torch.equal(shuffled.classes, expected)
    assert torch.equal(shuffled.labels, split.labels[expected])
    assert torch.equal(in_order(split, "shuffled").classes, shuffled.classes)
