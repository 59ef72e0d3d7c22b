"""DAGMM (Zong et al., ICLR 2018): an autoencoder and a GMM estimated jointly, score = energy.

The compression network is the shared DCGAN encoder and decoder. Its low-dimensional code z_c is
joined by the relative Euclidean distance and the cosine similarity between x and x' (eq. 1-3);
the estimation network maps that to memberships over K Gaussians (eq. 4). Loss eq. 7:
||x - x'||^2 + lambda1 * E[energy] + lambda2 * sum 1/Sigma_kjj. Defaults are the paper's KDDCUP
setting (z_c of one dimension, K = 4, estimation net 10 tanh units with dropout 0.5, lambda1
0.1, lambda2 0.005, Adam lr 1e-4, 200 epochs); the paper has no image setting.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim import Adam, Optimizer

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.base import AnomalyModule, OptimizerFactory
from anomaly_bench.models.components.dcgan import DcganDecoder, DcganEncoder
from anomaly_bench.models.components.gmm import (
    GaussianMixture,
    inverse_diagonal_penalty,
    mixture_from_memberships,
    sample_energy,
)
from anomaly_bench.settings.checks import NonNegative, PositiveInt, ShareBelowOne

DAGMM_OPTIMIZER: OptimizerFactory = partial(Adam, lr=1e-4)
RECONSTRUCTION_FEATURES = 2  # relative Euclidean distance, cosine similarity
NORM_EPS = 1e-8


def reconstruction_features(images: Tensor, reconstruction: Tensor) -> Tensor:
    """DAGMM eq. 2-3 per image [B, 2]: ||x - x'|| / ||x|| and cos(x, x').

    The small floor on ||x|| keeps an all-zero image (a flat mid-grey one in [-1, 1]) finite.
    """
    x, x_rec = images.flatten(1), reconstruction.flatten(1)
    relative = (x - x_rec).norm(dim=1) / x.norm(dim=1).clamp_min(NORM_EPS)
    cosine = F.cosine_similarity(x, x_rec, dim=1, eps=NORM_EPS)
    return torch.stack([relative, cosine], dim=1)


class Dagmm(AnomalyModule):
    """Score = sample energy under the GMM estimated over the whole training set."""

    def __init__(
        self,
        image_size: int = 32,
        in_channels: int = 1,
        latent_dim: PositiveInt = 1,
        width: PositiveInt = 64,
        n_components: PositiveInt = 4,
        estimation_hidden: PositiveInt = 10,
        dropout: ShareBelowOne = 0.5,
        w_energy: NonNegative = 0.1,
        w_covariance: NonNegative = 0.005,
        optimizer: OptimizerFactory = DAGMM_OPTIMIZER,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer"])
        self.optimizer = optimizer
        self.encoder = DcganEncoder(image_size, in_channels, latent_dim, width)
        self.decoder = DcganDecoder(image_size, in_channels, latent_dim, width)
        features = latent_dim + RECONSTRUCTION_FEATURES
        self.estimation = nn.Sequential(
            nn.Linear(features, estimation_hidden),
            nn.Tanh(),
            nn.Dropout(dropout),
            nn.Linear(estimation_hidden, n_components),
            nn.Softmax(dim=1),
        )
        self.register_buffer("gmm_weights", torch.full((n_components,), 1 / n_components))
        self.register_buffer("gmm_means", torch.zeros(n_components, features))
        self.register_buffer("gmm_covariances", torch.eye(features).repeat(n_components, 1, 1))

    def compress(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(x', z = [z_c, relative distance, cosine similarity])."""
        code = self.encoder(images)
        reconstruction = self.decoder(code)
        features = reconstruction_features(images, reconstruction)
        return reconstruction, torch.cat([code, features], dim=1)

    def reconstruction(self, images: Tensor) -> Tensor:
        return self.compress(images)[0]

    def configure_optimizers(self) -> Optimizer:
        return self.optimizer(self.parameters())

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        reconstruction, features = self.compress(batch.images)
        mixture = mixture_from_memberships(features, self.estimation(features))
        reconstruction_loss = F.mse_loss(reconstruction, batch.images)
        energy = sample_energy(features, mixture).mean()
        penalty = inverse_diagonal_penalty(mixture.covariances)
        hp = self.hparams
        loss = reconstruction_loss + hp.w_energy * energy + hp.w_covariance * penalty
        self.log_training(
            {
                "train/loss": loss,
                "train/reconstruction": reconstruction_loss,
                "train/energy": energy,
                "train/covariance_penalty": penalty,
            }
        )
        return loss

    @property
    def mixture(self) -> GaussianMixture:
        return GaussianMixture(self.gmm_weights, self.gmm_means, self.gmm_covariances)

    def estimate_mixture(self) -> None:
        """phi, mu, Sigma over every training image, as DAGMM scores (sec. 3.5)."""
        with torch.no_grad():
            features = torch.cat([self.compress(images)[1] for images in self.training_images()])
            mixture = mixture_from_memberships(features, self.estimation(features))
        for buffer, value in zip(self.mixture, mixture, strict=True):
            buffer.copy_(value)

    def prepare_scoring(self) -> None:
        self.estimate_mixture()

    def export_refusal(self) -> str:
        return (
            "its energy factorises the mixture's covariances (Cholesky, retried with more jitter "
            "where one fails) and solves a triangular system, for which ONNX has no operator"
        )

    def anomaly_score(self, images: Tensor) -> Tensor:
        return sample_energy(self.compress(images)[1], self.mixture)
