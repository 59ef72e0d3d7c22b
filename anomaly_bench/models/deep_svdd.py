"""Deep SVDD (Ruff et al., ICML 2018): map normal images into a small hypersphere around c.

One run does what the reference code (github.com/lukasruff/Deep-SVDD-PyTorch) does in two:
epochs [0, pretrain_epochs) pretrain a LeNet autoencoder (Adam 1e-4, weight decay 0.5e-3), then
c is set to the mean code of the training images (coordinates within 0.1 of zero pushed to
+-0.1, so that the trivial all-zero code cannot reach it) and the encoder trains on the Deep SVDD
objective (Adam 1e-4, weight decay 0.5e-6). In each stage the learning rate drops tenfold after
`lr_milestone` epochs. Defaults are the reference README's MNIST command: 150 + 150 epochs,
milestone 50, batch size 200 (set in the yaml).

Preprocessing is Deep SVDD's own, inside the model: global contrast normalisation (L1) of each
image, then min-max scaling with the range of the normal class's normalised training images,
found at the start of fit (the reference hard-codes the same per-class ranges).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import Tensor
from torch.optim import Adam, Optimizer
from torch.optim.lr_scheduler import MultiStepLR

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.base import AnomalyModule, OptimizerFactory
from anomaly_bench.models.components.lenet import LenetDecoder, LenetEncoder
from anomaly_bench.settings.checks import PositiveInt, check_choice

SVDD_OPTIMIZER: OptimizerFactory = partial(Adam, lr=1e-4, weight_decay=0.5e-6)
PRETRAIN_OPTIMIZER: OptimizerFactory = partial(Adam, lr=1e-4, weight_decay=0.5e-3)
OBJECTIVES = ("one-class", "soft-boundary")
GCN_EPS = 1e-8


def global_contrast_normalization(images: Tensor) -> Tensor:
    """Per image: subtract its mean, divide by its mean absolute deviation (L1 scale).

    Invariant to any positive affine map of the pixels, so [-1, 1] inputs give the same result
    as the reference's [0, 1] ones. A flat image (no contrast) maps to zeros.
    """
    flat = images.flatten(1)
    centred = flat - flat.mean(dim=1, keepdim=True)
    scale = centred.abs().mean(dim=1, keepdim=True).clamp_min(GCN_EPS)
    return (centred / scale).view_as(images)


class DeepSvdd(AnomalyModule):
    """Score = ||phi(x) - c||^2 (one-class), or that minus R^2 (soft-boundary, with nu)."""

    def __init__(
        self,
        image_size: int = 32,
        in_channels: int = 1,
        objective: str = "one-class",
        nu: float = 0.1,
        pretrain_epochs: PositiveInt = 150,
        lr_milestone: PositiveInt = 50,
        center_eps: float = 0.1,
        warm_up_epochs: int = 10,
        optimizer: OptimizerFactory = SVDD_OPTIMIZER,
        pretrain_optimizer: OptimizerFactory = PRETRAIN_OPTIMIZER,
    ) -> None:
        super().__init__()
        check_choice("objective", objective, OBJECTIVES)
        if not 0 < nu <= 1:
            raise ValueError(f"nu={nu} is not allowed; allowed: 0 < nu <= 1")
        self.save_hyperparameters(ignore=["optimizer", "pretrain_optimizer"])
        self.automatic_optimization = False
        self.optimizer = optimizer
        self.pretrain_optimizer = pretrain_optimizer
        self.encoder = LenetEncoder(image_size, in_channels)
        self.decoder = LenetDecoder(image_size, in_channels)
        self.register_buffer("center", torch.zeros(self.encoder.code_dim))
        self.register_buffer("radius", torch.zeros(()))
        self.register_buffer("pixel_range", torch.tensor([0.0, 1.0]))

    def preprocess(self, images: Tensor) -> Tensor:
        """GCN, then min-max scaling into [0, 1] with the normal class's training range."""
        low, high = self.pixel_range
        return (global_contrast_normalization(images) - low) / (high - low).clamp_min(GCN_EPS)

    def code(self, images: Tensor) -> Tensor:
        return self.encoder(self.preprocess(images))

    def squared_distance(self, images: Tensor) -> Tensor:
        return (self.code(images) - self.center).pow(2).sum(dim=1)

    def configure_optimizers(self) -> tuple[list[Optimizer], list[MultiStepLR]]:
        pretrain = self.pretrain_optimizer(self.parameters())
        svdd = self.optimizer(self.encoder.parameters())
        milestones = [self.hparams.lr_milestone]
        return [pretrain, svdd], [MultiStepLR(pretrain, milestones), MultiStepLR(svdd, milestones)]

    @property
    def first_stage_epochs(self) -> int:
        return self.hparams.pretrain_epochs

    @property
    def pretraining(self) -> bool:
        return self.current_epoch < self.first_stage_epochs

    def on_fit_start(self) -> None:
        self.check_epochs_after("pretrain_epochs", "Deep SVDD")
        with torch.no_grad():
            low, high = torch.inf, -torch.inf
            for images in self.training_images():
                normalised = global_contrast_normalization(images)
                low, high = min(low, normalised.min().item()), max(high, normalised.max().item())
        self.pixel_range.copy_(torch.tensor([low, high]))

    def on_train_epoch_start(self) -> None:
        if self.current_epoch == self.hparams.pretrain_epochs:
            self.initialise_center()

    def initialise_center(self) -> None:
        """c = mean code of the training images, with near-zero coordinates pushed to +-eps."""
        was_training = self.training
        self.eval()
        with torch.no_grad():
            codes = torch.cat([self.code(images) for images in self.training_images()])
        self.train(was_training)
        center = codes.mean(dim=0)
        eps = self.hparams.center_eps
        near_zero = center.abs() < eps
        center[near_zero] = torch.where(center[near_zero] < 0, -eps, eps)
        self.center.copy_(center)

    def training_step(self, batch: Batch, batch_idx: int) -> None:
        stage = 0 if self.pretraining else 1
        optimizer = self.optimizers()[stage]
        loss = self.pretrain_loss(batch.images) if stage == 0 else self.svdd_loss(batch.images)
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()
        self.log_training({"train/ae_loss" if stage == 0 else "train/svdd_loss": loss})

    def on_train_epoch_end(self) -> None:
        self.lr_schedulers()[0 if self.pretraining else 1].step()

    def pretrain_loss(self, images: Tensor) -> Tensor:
        """The autoencoder's mean per-image sum of squared errors, in the preprocessed space."""
        inputs = self.preprocess(images)
        return (self.decoder(self.encoder(inputs)) - inputs).pow(2).flatten(1).sum(dim=1).mean()

    def svdd_loss(self, images: Tensor) -> Tensor:
        """Deep SVDD eq. 4 (one-class) or eq. 3 (soft-boundary; R from the (1 - nu) quantile)."""
        distance = self.squared_distance(images)
        if self.hparams.objective == "one-class":
            return distance.mean()
        svdd_epoch = self.current_epoch - self.hparams.pretrain_epochs
        if svdd_epoch >= self.hparams.warm_up_epochs:
            radius = torch.quantile(distance.detach().sqrt(), 1 - self.hparams.nu)
            self.radius.copy_(radius)
        excess = (distance - self.radius**2).clamp_min(0)
        return self.radius**2 + excess.mean() / self.hparams.nu

    def anomaly_score(self, images: Tensor) -> Tensor:
        distance = self.squared_distance(images)
        if self.hparams.objective == "one-class":
            return distance
        return distance - self.radius**2
