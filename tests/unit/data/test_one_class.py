import numpy as np
import pytest
import torch

from anomaly_bench.data import OneClassDataModule, load_dataset


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


def test_mnist_leave_one_out_counts_for_anomalous_class_0(mnist_dir):
    module = OneClassDataModule(
        "mnist", protocol="leave_one_out", anomalous_class=0, data_dir=mnist_dir
    )
    module.setup()
    assert (module.n_train, module.n_test, module.n_test_normal) == (60000 - 5923, 15923, 9020)


def test_paper_protocol_adds_the_other_training_classes_to_the_test_split():
    paper, standard = (
        synthetic(protocol="paper", normal_class=3),
        synthetic(protocol="standard", normal_class=3),
    )
    assert paper.n_train == standard.n_train == 48
    assert standard.n_test == 240 and standard.n_test_normal == 24
    assert paper.n_test == 240 + 9 * 48 and paper.n_test_normal == 24
    assert torch.equal(paper.test_set.labels, (paper.test_set.classes != 3).long())


def ganomaly_leave_one_out(train_labels, test_labels, anomalous):
    """The split sizes of the GANomaly code's `get_mnist_anomaly_dataset` / `get_cifar_anomaly_
    dataset` (lib/data.py, default manualseed -1): train = the training split's normal classes;
    test = the test split's normal images, then the anomalous class's training and test images."""
    nrm_trn = np.where(train_labels != anomalous)[0]
    abn_trn = np.where(train_labels == anomalous)[0]
    nrm_tst = np.where(test_labels != anomalous)[0]
    abn_tst = np.where(test_labels == anomalous)[0]
    test = np.concatenate((nrm_tst, abn_trn, abn_tst))
    return len(nrm_trn), len(test), len(nrm_tst)


@pytest.mark.parametrize("dataset", ["digits", "synthetic"])
def test_leave_one_out_builds_the_ganomaly_codes_split(dataset):
    splits = load_dataset(dataset, None, download=False)
    module = OneClassDataModule(dataset, protocol="leave_one_out", anomalous_class=3)
    module.setup()
    expected = ganomaly_leave_one_out(
        splits.train_labels.numpy(), splits.test_labels.numpy(), anomalous=3
    )
    assert (module.n_train, module.n_test, module.n_test_normal) == expected
    assert (module.train_set.classes != 3).all()
    assert len(set(module.train_set.classes.tolist())) == len(module.class_names) - 1
    assert torch.equal(module.test_set.labels, (module.test_set.classes == 3).long())
    assert module.class_name_field() == {"anomalous_class_name": module.class_names[3]}


def test_leave_one_out_holds_out_normals_of_every_normal_class():
    module = synthetic(protocol="leave_one_out", anomalous_class=0, val_fraction=0.25)
    assert (module.n_train, module.n_val) == (324, 108)
    assert (module.val_set.classes != 0).all() and (module.val_set.labels == 0).all()
    assert len(set(module.val_set.classes.tolist())) == 9


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
        ({"protocol": "oneclass"}, "protocol='oneclass'.*allowed: paper, standard, leave_one_out"),
        ({"anomalous_class": 2}, "anomalous_class=2 is not allowed with protocol=paper"),
        (
            {"protocol": "leave_one_out", "normal_class": 2, "anomalous_class": 3},
            "normal_class=2 is not allowed with protocol=leave_one_out.*anomalous_class",
        ),
        ({"protocol": "leave_one_out"}, "anomalous_class=None.*allowed: 0, 1, 2"),
        ({"protocol": "leave_one_out", "anomalous_class": 10}, "anomalous_class=10.*allowed"),
        ({"val_fraction": 1.0}, r"val_fraction=1.0.*\[0, 1\)"),
        ({"batch_size": 0}, "batch_size=0"),
    ],
)
def test_bad_arguments_name_the_value_and_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        OneClassDataModule(**{"dataset": "synthetic", **kwargs})
