"""f-AnoGAN (Schlegl et al., Medical Image Analysis 2019): WGAN-GP, then an encoder into its z.

One run trains both stages: epochs [0, gan_epochs) train the WGAN-GP, the remaining epochs train
the encoder E against the frozen G and D (in eval mode). The encoder is trained as `ziz`
(||z - E(G(z))||^2 / d), `izi` (||x - G(E(x))||^2 / n) or `izi_f` (izi + kappa *
||f(x) - f(G(E(x)))||^2 / n_d); f-AnoGAN's choice is izi_f with kappa = 1. The encoder's Adam
lr 1e-4 with betas (0.0, 0.9) is the WGAN-GP optimiser, as the PyTorch port of f-AnoGAN
(github.com/dbbbbm/f-AnoGAN-PyTorch) uses it.

E's output is bounded by a tanh (`encoder_output: tanh`, the default), as every reference has it
(the original's "paper version" encoder `Z_REG_TYPE='tanh_fc'`, A03ki/f-AnoGAN, the PyTorch
port): G was trained on z from the prior, and an unbounded E(x) can land where G never was.
`encoder_output: linear` is the unbounded variant this project had before.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.optim import Optimizer

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.base import OptimizerFactory
from anomaly_bench.models.components.critic_losses import GradientPenaltyLoss
from anomaly_bench.models.components.dcgan import DcganEncoder
from anomaly_bench.models.components.scores import per_sample_mse
from anomaly_bench.models.latent_gan import ScoreFunction
from anomaly_bench.models.wgan_gp import WganGp
from anomaly_bench.settings.checks import NonNegative, PositiveInt, check_choice

ENCODER_TRAININGS = ("ziz", "izi", "izi_f")
ENCODER_OUTPUTS = ("tanh", "linear")


class FAnogan(WganGp):
    """WGAN-GP + encoder; score `encoder` (A = A_R + kappa * A_D, eq. 7 of f-AnoGAN) or `critic`.

    A_R = ||x - G(E(x))||^2 / n and A_D = ||f(x) - f(G(E(x)))||^2 / n_d, whichever way E was
    trained. `latent_search` (AnoGAN's) is offered too, as for every GAN here. The first stage's
    settings are WGAN-GP's, passed through unchanged.
    """

    UNSAVED_ARGUMENTS = (*WganGp.UNSAVED_ARGUMENTS, "encoder_optimizer")

    def __init__(
        self,
        encoder: str = "izi_f",
        encoder_output: str = "tanh",
        kappa: NonNegative = 1.0,
        gan_epochs: PositiveInt = 25,
        score: str = "encoder",
        encoder_optimizer: OptimizerFactory = GradientPenaltyLoss.optimizer,
        **settings: Any,
    ) -> None:
        check_choice("encoder", encoder, ENCODER_TRAININGS)
        check_choice("encoder_output", encoder_output, ENCODER_OUTPUTS)
        super().__init__(score=score, **settings)
        self.encoder_optimizer = encoder_optimizer
        hp = self.hparams
        self.encoder = DcganEncoder(hp.image_size, hp.in_channels, hp.latent_dim, hp.width)

    def configure_optimizers(self) -> list[Optimizer]:
        return [*super().configure_optimizers(), self.encoder_optimizer(self.encoder.parameters())]

    @property
    def first_stage_epochs(self) -> int:
        return self.hparams.gan_epochs

    def on_fit_start(self) -> None:
        self.check_epochs_after("gan_epochs", "the encoder")

    def encode(self, images: Tensor) -> Tensor:
        """E(x), through a tanh unless `encoder_output` is `linear`."""
        latent = self.encoder(images)
        return torch.tanh(latent) if self.hparams.encoder_output == "tanh" else latent

    def reconstruct(self, images: Tensor) -> Tensor:
        """G(E(x))."""
        return self.generator(self.encode(images))

    def reconstruction(self, images: Tensor) -> Tensor:
        return self.reconstruct(images)

    def ziz_loss(self, images: Tensor) -> dict[str, Tensor]:
        """||z - E(G(z))||^2 / d on z from the prior; the images only set the batch size."""
        latent = self.sample_latent(images.shape[0])
        return {"loss": F.mse_loss(self.encode(self.generator(latent)), latent)}

    def izi_loss(self, images: Tensor) -> dict[str, Tensor]:
        """||x - G(E(x))||^2 / n."""
        return {"loss": F.mse_loss(self.reconstruct(images), images)}

    def izi_f_loss(self, images: Tensor) -> dict[str, Tensor]:
        """izi + kappa * ||f(x) - f(G(E(x)))||^2 / n_d, f = D's last feature map."""
        reconstruction = self.reconstruct(images)
        residual = F.mse_loss(reconstruction, images)
        features = F.mse_loss(
            self.discriminator_features(reconstruction), self.discriminator_features(images)
        )
        return {
            "loss": residual + self.hparams.kappa * features,
            "residual": residual,
            "features": features,
        }

    def training_step(self, batch: Batch, batch_idx: int) -> None:
        if self.current_epoch < self.hparams.gan_epochs:
            super().training_step(batch, batch_idx)
            return
        *_, opt_e = self.optimizers()
        for frozen in (self.generator, self.discriminator):
            frozen.eval().requires_grad_(False)
        losses = getattr(self, f"{self.hparams.encoder}_loss")(batch.images)
        opt_e.zero_grad()
        self.manual_backward(losses["loss"])
        opt_e.step()
        self.log_training({f"train/encoder_{k}": v for k, v in losses.items()})

    def encoder_score(self, images: Tensor) -> Tensor:
        reconstruction = self.reconstruct(images)
        residual = per_sample_mse(images, reconstruction)
        features = per_sample_mse(
            self.discriminator_features(images), self.discriminator_features(reconstruction)
        )
        return residual + self.hparams.kappa * features

    def score_functions(self) -> dict[str, ScoreFunction]:
        return {**super().score_functions(), "encoder": self.encoder_score}
