"""The paper's baselines: iForest, DAGMM and Deep SVDD."""

from functools import partial

import lightning as L
import numpy as np
import pytest
import torch
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from torch.optim import Adam

from anomaly_bench.models.components.gmm import mixture_from_memberships, sample_energy
from anomaly_bench.models.dagmm import Dagmm
from anomaly_bench.models.deep_svdd import DeepSvdd, global_contrast_normalization
from anomaly_bench.models.iforest import Iforest
from tests.unit.models.helpers import (
    SIZE,
    fit,
    quiet_trainer,
    score_test_split,
    synthetic_data,
)


def score_test_split_numpy(model: L.LightningModule) -> tuple[np.ndarray, np.ndarray]:
    scores, labels = score_test_split(model)
    return scores.numpy(), labels.numpy()


def test_iforest_fits_once_however_many_epochs(monkeypatch):
    fits = []
    original = IsolationForest.fit
    monkeypatch.setattr(
        IsolationForest, "fit", lambda self, x, *a, **k: fits.append(len(x)) or original(self, x)
    )
    fit(Iforest(SIZE, 1), epochs=3)
    assert fits == [48]  # every synthetic normal training image, once


def test_iforest_scores_are_deterministic_for_a_seed_and_separate_an_easy_split():
    runs = {}
    for name, seed in (("a", 3), ("b", 3), ("other", 4)):
        model = Iforest(SIZE, 1, seed=seed)
        fit(model, epochs=1)
        runs[name] = score_test_split_numpy(model)
    np.testing.assert_array_equal(runs["a"][0], runs["b"][0])
    assert not np.array_equal(runs["a"][0], runs["other"][0])
    scores, labels = runs["a"]
    assert roc_auc_score(labels, scores) > 0.8


def test_iforest_refuses_to_score_before_fitting():
    with pytest.raises(RuntimeError, match="not fitted"):
        Iforest(SIZE, 1).anomaly_score(torch.zeros(2, 1, SIZE, SIZE))


def test_dagmm_memberships_sum_to_one_and_energy_is_finite_on_constant_images():
    torch.manual_seed(0)
    model = Dagmm(SIZE, 1, width=16).eval()
    images = torch.stack([torch.full((1, SIZE, SIZE), v) for v in (-1.0, 0.0, 0.5, 1.0)] * 4)
    with torch.no_grad():
        _, features = model.compress(images)
        memberships = model.estimation(features)
        torch.testing.assert_close(memberships.sum(dim=1), torch.ones(len(images)))
        mixture = mixture_from_memberships(features, memberships)
        assert torch.isfinite(sample_energy(features, mixture)).all()
        assert torch.isfinite(model.anomaly_score(images)).all()


def test_energy_is_finite_and_differentiable_when_every_sample_is_identical():
    features = torch.ones(8, 3, requires_grad=True)  # a singular covariance in every component
    memberships = torch.softmax(torch.randn(8, 4), dim=1)
    energy = sample_energy(features, mixture_from_memberships(features, memberships))
    energy.sum().backward()
    assert torch.isfinite(energy).all() and torch.isfinite(features.grad).all()


def test_energy_matches_the_mixture_density_computed_directly():
    torch.manual_seed(0)
    features, memberships = torch.randn(50, 2), torch.softmax(torch.randn(50, 3), dim=1)
    mixture = mixture_from_memberships(features, memberships)
    density = sum(
        w * torch.distributions.MultivariateNormal(m, c).log_prob(features).exp()
        for w, m, c in zip(*mixture, strict=True)
    )
    torch.testing.assert_close(
        sample_energy(features, mixture), -torch.log(density), rtol=1e-4, atol=1e-4
    )


def test_dagmm_scores_with_the_mixture_of_the_training_set():
    model = Dagmm(SIZE, 1, width=16)
    fit(model, epochs=1)
    trainer = quiet_trainer()
    trainer.test(model, datamodule=synthetic_data())
    assert model.gmm_weights.sum().item() == pytest.approx(1.0, abs=1e-5)
    assert not torch.equal(model.gmm_covariances, torch.eye(3).repeat(4, 1, 1))


def test_deep_svdd_networks_have_no_bias():
    for channels in (1, 3):
        model = DeepSvdd(SIZE, channels)
        assert not [n for n, _ in model.named_parameters() if "bias" in n]
        assert not any(getattr(m, "affine", False) for m in model.modules())


def test_gcn_ignores_the_pixel_scale_and_preprocessing_lands_in_the_unit_range():
    images = torch.rand(4, 1, SIZE, SIZE)
    torch.testing.assert_close(
        global_contrast_normalization(images), global_contrast_normalization(2 * images - 1)
    )
    model = DeepSvdd(SIZE, 1, pretrain_epochs=1)
    fit(model, epochs=2)
    data = synthetic_data()
    data.setup()
    scaled = model.preprocess(data.train_set.batch(slice(None)).images)
    assert scaled.min().item() == pytest.approx(0, abs=1e-5)
    assert scaled.max().item() == pytest.approx(1, abs=1e-5)


def test_deep_svdd_center_avoids_zero_and_the_distance_to_it_shrinks():
    torch.manual_seed(0)
    # lr 1e-3 rather than the reference 1e-4, so that a few dozen steps show the fall.
    model = DeepSvdd(SIZE, 1, pretrain_epochs=1, optimizer=partial(Adam, lr=1e-3))
    data = synthetic_data()
    data.setup()
    train_images = data.train_set.batch(slice(None)).images
    distances = []

    class Record(L.Callback):
        def on_train_epoch_end(self, trainer, module):
            # In train mode, as the objective sees it: a few steps leave BatchNorm's running
            # statistics too immature for eval-mode codes to mean anything yet.
            if not module.pretraining:
                with torch.no_grad():
                    distances.append(module.squared_distance(train_images).mean().item())

    trainer = quiet_trainer(max_epochs=8, callbacks=[Record()])
    trainer.fit(model, datamodule=data)
    assert (model.center.abs() >= model.hparams.center_eps).all()
    assert distances[-1] < 0.5 * distances[0], distances


def test_deep_svdd_soft_boundary_fits_a_radius_and_scores_relative_to_it():
    model = DeepSvdd(SIZE, 1, objective="soft-boundary", pretrain_epochs=1, warm_up_epochs=1)
    fit(model, epochs=3)
    assert model.radius.item() > 0
    images = torch.rand(3, 1, SIZE, SIZE) * 2 - 1
    model.eval()
    with torch.no_grad():
        torch.testing.assert_close(
            model.anomaly_score(images), model.squared_distance(images) - model.radius**2
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"objective": "hard"}, "objective='hard' is not allowed"),
        ({"nu": 0}, "nu=0 is not allowed"),
    ],
)
def test_deep_svdd_refuses_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DeepSvdd(SIZE, 1, **kwargs)


def test_iforest_refits_the_same_forest_after_a_checkpoint_load(tmp_path):
    model = Iforest(SIZE, 1, seed=5)
    trainer = quiet_trainer(max_epochs=1)
    trainer.fit(model, datamodule=synthetic_data())
    trainer.save_checkpoint(tmp_path / "last.ckpt")
    restored = Iforest.load_from_checkpoint(tmp_path / "last.ckpt", weights_only=True)
    assert restored.forest is None and restored.fit_images == model.fit_images
    quiet_trainer().test(restored, datamodule=synthetic_data())  # refits before scoring
    np.testing.assert_array_equal(
        score_test_split_numpy(restored)[0], score_test_split_numpy(model)[0]
    )


def test_deep_svdd_autoencoder_reconstructs_mnists_native_28x28():
    model = DeepSvdd(28, 1)
    images = torch.rand(3, 1, 28, 28)
    assert model.decoder(model.encoder(images)).shape == (3, 1, 28, 28)
    # The reference's crop: the second-to-last convolution takes 16x16 to 14x14.
    assert [conv.padding[0] for conv in model.decoder.convs] == [2, 1, 2]
    assert [conv.padding[0] for conv in DeepSvdd(32, 1).decoder.convs] == [2, 2, 2]


@pytest.mark.parametrize(
    ("size", "channels", "message"),
    [
        (28, 3, "image_size=28 is not allowed; allowed: 16, 32, 64, 128, 256"),
        (20, 1, "image_size=20 is not allowed; allowed: 16, 28, 32, 64, 128, 256"),
    ],
)
def test_deep_svdd_refuses_an_image_size_its_nets_cannot_take(size, channels, message):
    with pytest.raises(ValueError, match=message):
        DeepSvdd(size, channels)


def test_the_dcgan_nets_still_refuse_28x28():
    with pytest.raises(
        ValueError, match="image_size=28 is not allowed; allowed: 16, 32, 64, 128, 256"
    ):
        Dagmm(28, 1)
