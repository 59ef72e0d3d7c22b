"""The latent GAN scheme AnoGAN, WGAN, WGAN-GP and f-AnoGAN's first stage train by: G: z -> x
against a discriminator or critic, with the method's choice of critic loss, and a choice of score.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.base import AnomalyModule, OptimizerFactory
from anomaly_bench.models.components.critic_losses import CriticLoss
from anomaly_bench.models.components.dcgan import DcganDecoder, DcganDiscriminator
from anomaly_bench.models.components.latent_search import SearchSettings, latent_search
from anomaly_bench.settings.checks import OptionalPositiveInt, PositiveInt, check_choice

ScoreFunction = Callable[[Tensor], Tensor]


class LatentGan(AnomalyModule):
    """A DCGAN generator from an N(0, I) prior and a DCGAN discriminator (or critic).

    A method is this scheme with its `critic_loss` (`components/critic_losses.py`) and its
    defaults; it passes its other settings through unchanged. A setting left None takes the
    critic loss's choice: `n_critic` (1 for DCGAN, 5 for the Wasserstein GANs), `score`
    (`latent_search`, `critic`), `discriminator_batch_norm` (BatchNorm, except under WGAN-GP's
    per-sample penalty) and `optimizer` (the one of the loss's paper, for D and G alike).
    Each batch updates D, and every `n_critic`-th batch also updates G, so an epoch feeds every
    real image to D once, as the WGAN reference's data iterator does; batches are counted across
    epochs, so an epoch shorter than n_critic batches still trains G.

    `score` names one of `score_functions()`: every such GAN can score by AnoGAN's latent search
    (`search`: its steps, Adam's lr and the feature weight, `SearchSettings`); a Wasserstein critic
    also by f-AnoGAN's critic-only score, E[D(x_train)] - D(x): the critic rates normal images
    high, so an image rated below the training images' mean is anomalous. The mean is taken over
    up to `critic_reference_images` training images (32,000 as f-AnoGAN) at the start of each
    evaluation, with the weights being evaluated, and kept as a buffer.
    """

    # Constructor arguments kept out of hparams: the critic loss and optimiser factories are not
    # plain values, and the search node is saved below as plain values, so a checkpoint loads
    # with weights_only=True.
    UNSAVED_ARGUMENTS: tuple[str, ...] = ("critic_loss", "optimizer", "search")

    def __init__(
        self,
        critic_loss: CriticLoss,
        image_size: int = 32,
        in_channels: int = 1,
        latent_dim: PositiveInt = 100,
        width: PositiveInt = 64,
        n_critic: OptionalPositiveInt = None,
        discriminator_batch_norm: bool | None = None,
        score: str | None = None,
        critic_reference_images: PositiveInt = 32000,
        search: Mapping[str, Any] | None = None,
        optimizer: OptimizerFactory | None = None,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=list(self.UNSAVED_ARGUMENTS))
        self.critic_loss = critic_loss
        self.hparams["n_critic"] = n_critic or critic_loss.n_critic
        self.hparams["score"] = score = score or critic_loss.score
        self.search = SearchSettings.from_config(search)
        self.hparams["search"] = asdict(self.search)
        check_choice("score", score, self.score_functions())
        self.automatic_optimization = False
        self.optimizer = optimizer or critic_loss.optimizer
        self.generator = DcganDecoder(image_size, in_channels, latent_dim, width)
        if discriminator_batch_norm is None:
            discriminator_batch_norm = critic_loss.discriminator_batch_norm
        self.discriminator = DcganDiscriminator(
            image_size, in_channels, width, batch_norm=discriminator_batch_norm
        )
        if critic_loss.scores_as_critic:
            self.register_buffer("critic_train_mean", torch.zeros(()))

    def sample_latent(self, n: int) -> Tensor:
        return torch.randn(n, self.hparams.latent_dim, device=self.device)

    def discriminator_features(self, images: Tensor) -> Tensor:
        """f(x): D's last feature map, the layer AnoGAN and f-AnoGAN match features on."""
        return self.discriminator(images)[1]

    def critic_values(self, images: Tensor) -> Tensor:
        """D(x) [B]: a logit for BCE GANs, the critic's real value for Wasserstein GANs."""
        return self.discriminator(images)[0]

    def configure_optimizers(self) -> list[Optimizer]:
        return [
            self.optimizer(self.generator.parameters()),
            self.optimizer(self.discriminator.parameters()),
        ]

    def training_step(self, batch: Batch, batch_idx: int) -> None:
        opt_g, opt_d, *_ = self.optimizers()
        images = batch.images
        loss = self.critic_loss
        train_generator = (self.trainer.fit_loop.total_batch_idx + 1) % self.hparams.n_critic == 0
        with torch.set_grad_enabled(train_generator and loss.reuses_generated):
            fake = self.generator(self.sample_latent(images.shape[0]))
        d_loss, logs = loss.critic_loss(self.critic_values, images, fake.detach())
        opt_d.zero_grad()
        self.manual_backward(d_loss)
        opt_d.step()
        loss.after_critic_step(self.discriminator)
        self.log_training({"train/d_loss": d_loss, **logs})
        if not train_generator:
            return
        if not loss.reuses_generated:
            fake = self.generator(self.sample_latent(images.shape[0]))
        g_loss = loss.generator_loss(self.critic_values(fake))
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        self.log_training({"train/g_loss": g_loss})

    def latent_search_score(self, images: Tensor) -> Tensor:
        return latent_search(
            self.generator,
            self.discriminator_features,
            images,
            self.sample_latent(images.shape[0]),
            self.search,
        )

    def estimate_critic_train_mean(self) -> None:
        """E[D(x)] over the datamodule's training images, for the critic score's offset."""
        total, count = torch.zeros((), device=self.device), 0
        with torch.no_grad():
            for images in self.training_images():
                values = self.critic_values(images)
                values = values[: self.hparams.critic_reference_images - count]
                total += values.sum()
                count += values.shape[0]
                if count >= self.hparams.critic_reference_images:
                    break
        self.critic_train_mean.copy_(total / count)

    def prepare_scoring(self) -> None:
        if self.hparams.score == "critic":
            self.estimate_critic_train_mean()

    def critic_score(self, images: Tensor) -> Tensor:
        return self.critic_train_mean - self.critic_values(images)

    def score_functions(self) -> dict[str, ScoreFunction]:
        """The scores this method offers, by their config name."""
        critic = {"critic": self.critic_score} if self.critic_loss.scores_as_critic else {}
        return {"latent_search": self.latent_search_score, **critic}

    def export_refusal(self) -> str | None:
        if self.hparams.score != "latent_search":
            return None
        return (
            "score=latent_search searches the latent space for each image (hundreds of optimiser "
            "steps with gradients), which is no single forward pass; a run scored by the critic "
            "(WGAN, WGAN-GP) or by f-AnoGAN's encoder exports"
        )

    def anomaly_score(self, images: Tensor) -> Tensor:
        return self.score_functions()[self.hparams.score](images)
