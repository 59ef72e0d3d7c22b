"""What AnoGAN, WGAN, WGAN-GP and f-AnoGAN share: G: z -> x against D, and a choice of score."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from anomaly_bench.models.base import AnomalyModule, OptimizerFactory
from anomaly_bench.models.components.dcgan import DcganDecoder, DcganDiscriminator
from anomaly_bench.models.components.latent_search import SearchSettings, latent_search
from anomaly_bench.settings.checks import PositiveInt, check_choice

ScoreFunction = Callable[[Tensor], Tensor]


class LatentGan(AnomalyModule):
    """A DCGAN generator from an N(0, I) prior and a DCGAN discriminator (or critic).

    `score` names one of `score_functions()`; every such GAN can score by AnoGAN's latent search
    (`search`: its steps, Adam's lr and the feature weight, `SearchSettings`), and subclasses add
    their own scores. Training is manual: each subclass writes its own
    `training_step` over `self.optimizers()` = (G's, D's).
    """

    # Constructor arguments (of this class and its subclasses, whose arguments Lightning collects
    # here) kept out of hparams: optimiser factories are not plain values, and the search node is
    # saved below as plain values, so a checkpoint loads with weights_only=True.
    UNSAVED_ARGUMENTS: tuple[str, ...] = ("optimizer", "search")

    def __init__(
        self,
        image_size: int,
        in_channels: int,
        latent_dim: PositiveInt,
        width: PositiveInt,
        discriminator_batch_norm: bool,
        score: str,
        search: Mapping[str, Any] | None,
        optimizer: OptimizerFactory,
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=list(self.UNSAVED_ARGUMENTS))
        self.search = SearchSettings.from_config(search)
        self.hparams["search"] = asdict(self.search)
        check_choice("score", score, self.score_functions())
        self.automatic_optimization = False
        self.optimizer = optimizer
        self.generator = DcganDecoder(image_size, in_channels, latent_dim, width)
        self.discriminator = DcganDiscriminator(
            image_size, in_channels, width, batch_norm=discriminator_batch_norm
        )

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

    def latent_search_score(self, images: Tensor) -> Tensor:
        return latent_search(
            self.generator,
            self.discriminator_features,
            images,
            self.sample_latent(images.shape[0]),
            self.search,
        )

    def score_functions(self) -> dict[str, ScoreFunction]:
        """The scores this method offers, by their config name."""
        return {"latent_search": self.latent_search_score}

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
