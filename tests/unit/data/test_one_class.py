import pytest
import torch

from anomaly_bench.data import OneClassDataModule


def synthetic(**kwargs) -> OneClassDataModule:
    module = OneClassDataModule(
        **{"dataset": "synthetic", "image_size": 16, "batch_size": 32, **kwargs}
    )
    module.setup()
    return module


def test_mnist_protocol_counts_for_class_0(mnist_dir):
    paper = OneClassDataModule("mnist", 0, "paper", data_dir=mnist_dir)
    paper.setup()
    assert (paper.n_train, paper.n_test, paper.n_test_normal) == (5923, 64077, 980)
    standard = OneClassDataModule("mnist", 0, "standard", data_dir=mnist_dir)
    standard.setup()
    assert (standard.n_train, standard.n_test, standard.n_test_normal) == (5923, 10000, 980)


def test_paper_protocol_adds_the_other_training_classes_to_the_test_split():
    paper, standard = (
        synthetic(protocol="paper", normal_class=3),
        synthetic(protocol="standard", normal_class=3),
    )
    assert paper.n_train == standard.n_train == 48
    assert standard.n_test == 240 and standard.n_test_normal == 24
    assert paper.n_test == 240 + 9 * 48 and paper.n_test_normal == 24
    assert torch.equal(paper.test_set.labels, (paper.test_set.classes != 3).long())


def test_training_split_holds_only_the_normal_class_scaled_to_unit_range():
    module = synthetic(normal_class=5)
    batch = next(iter(module.train_dataloader()))
    assert batch.images.shape == (32, 1, 16, 16) and batch.images.dtype == torch.float32
    assert batch.images.min() >= -1 and batch.images.max() <= 1
    assert (batch.classes == 5).all() and (batch.labels == 0).all()


def test_images_are_resized_once_and_kept_as_uint8():
    module = synthetic(image_size=32)
    assert module.train_set.images.dtype == torch.uint8
    assert module.train_set.images.shape[-2:] == (32, 32)
    assert next(iter(module.test_dataloader())).images.shape[-1] == 32


def test_an_epoch_visits_every_training_image_once_in_a_seeded_order():
    module = synthetic(batch_size=10)
    first = torch.cat([b.images for b in module.train_dataloader()])
    assert len(first) == module.n_train == 48
    rows = {tuple(row.flatten().tolist()) for row in first}
    assert len(rows) == len({tuple(row.flatten().tolist()) for row in module.train_set.images})
    again = torch.cat([b.images for b in synthetic(batch_size=10).train_dataloader()])
    assert torch.equal(first, again)


def test_val_fraction_holds_out_normals_never_trained_on():
    module = synthetic(val_fraction=0.25)
    assert (module.n_train, module.n_val) == (36, 12)
    train_rows = {tuple(r.flatten().tolist()) for r in module.train_set.images}
    val_rows = {tuple(r.flatten().tolist()) for r in module.val_set.images}
    assert not train_rows & val_rows
    assert (module.val_set.labels == 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dataset": "svhn"}, "'svhn'.*allowed: mnist"),
        ({"normal_class": 10}, "normal_class=10.*allowed: 0, 1, 2"),
        ({"protocol": "oneclass"}, "protocol='oneclass'.*allowed: paper, standard"),
        ({"val_fraction": 1.0}, r"val_fraction=1.0.*\[0, 1\)"),
        ({"batch_size": 0}, "batch_size=0"),
    ],
)
def test_bad_arguments_name_the_value_and_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        OneClassDataModule(**{"dataset": "synthetic", **kwargs})
