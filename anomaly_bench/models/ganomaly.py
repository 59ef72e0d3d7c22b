"""GANomaly (Akcay et al., ACCV 2018): an encoder-decoder-encoder generator against a DCGAN D.

Defaults are the reference code's (github.com/samet-akcay/ganomaly, options.py): nz 100,
ngf = ndf = 64, Adam lr 2e-4 with betas (0.5, 0.999), w_adv 1, w_con 50, w_enc 1; G is updated
before D on each batch and D is re-initialised when its loss falls below 1e-5.
"""

from __future__ import annotations

from collections.abc import Callable

import torch.nn.functional as F
from torch import Tensor
from torch.optim import Optimizer

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.base import AnomalyModule, OptimizerFactory
from anomaly_bench.models.components.dcgan import DCGAN_OPTIMIZER, DcganDiscriminator
from anomaly_bench.models.components.ganomaly_generator import GanomalyGenerator
from anomaly_bench.models.components.losses import discriminator_bce_loss, feature_matching_loss
from anomaly_bench.models.components.memory import MemoryModule
from anomaly_bench.models.components.scores import LATENT_NORMS, latent_distance
from anomaly_bench.settings.checks import NonNegative, PositiveInt, check_choice

MemoryFactory = Callable[[int], MemoryModule]


class Ganomaly(AnomalyModule):
    """G_E -> G_D -> E with a BCE discriminator; score = distance between G_E(x) and E(G(x)).

    Generator loss (Mem_GANomaly paper eq. 4-7): w_adv * ||f(x) - f(G(x))||_2 (feature matching on
    D's last feature map) + w_con * ||x - G(x)||_1 + w_enc * ||G_E(x) - E(G(x))||_2. The score's
    norm is `score_norm`: `l2` as the reference code, `l1` as the paper's eq. 8.
    """

    def __init__(
        self,
        image_size: int = 32,
        in_channels: int = 1,
        latent_dim: PositiveInt = 100,
        width: PositiveInt = 64,
        w_adv: NonNegative = 1.0,
        w_con: NonNegative = 50.0,
        w_enc: NonNegative = 1.0,
        score_norm: str = "l2",
        d_reinit_threshold: NonNegative = 1e-5,
        optimizer: OptimizerFactory = DCGAN_OPTIMIZER,
        memory: MemoryFactory | None = None,
    ) -> None:
        """`memory` (latent_dim -> the memory) puts a memory between G_E and G_D (Mem_GANomaly);
        it is built after D, the order the weights were drawn in before the generator was one
        piece, so a seed still gives the same weights."""
        super().__init__()
        check_choice("score_norm", score_norm, LATENT_NORMS)
        self.save_hyperparameters(ignore=["optimizer", "memory"])
        self.automatic_optimization = False
        self.optimizer = optimizer
        self.generator = GanomalyGenerator(image_size, in_channels, latent_dim, width)
        self.discriminator = DcganDiscriminator(image_size, in_channels, width)
        if memory is not None:
            self.generator.memory = memory(latent_dim)

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        """Checkpoints written before the generator was one piece name its networks at the top
        level (`encoder.*`, `memory.*`); they load, and resume, under today's names."""
        pieces = tuple(f"{name}." for name, _ in self.generator.named_children())
        checkpoint["state_dict"] = {
            (f"generator.{key}" if key.startswith(pieces) else key): value
            for key, value in checkpoint["state_dict"].items()
        }

    def configure_optimizers(self) -> list[Optimizer]:
        return [
            self.optimizer(self.generator.parameters()),
            self.optimizer(self.discriminator.parameters()),
        ]

    def discriminator_step(self, optimizer: Optimizer, real_logits: Tensor, fake: Tensor) -> Tensor:
        """One BCE update of D; D is re-drawn when its loss collapses, as the reference does.

        `real_logits` are D's logits of the real batch, with their graph, from the current D.
        """
        fake_logits, _ = self.discriminator(fake.detach())
        d_loss = discriminator_bce_loss(real_logits, fake_logits)
        optimizer.zero_grad()
        self.manual_backward(d_loss)
        optimizer.step()
        self.discriminator.reset_parameters_where(d_loss.detach() < self.hparams.d_reinit_threshold)
        return d_loss

    def adversarial_loss(self, real_features: Tensor, fake: Tensor) -> Tensor:
        """Feature matching on D's last feature map; D's features of x are a fixed target."""
        _, fake_features = self.discriminator(fake)
        return feature_matching_loss(real_features.detach(), fake_features)

    def training_step(self, batch: Batch, batch_idx: int) -> None:
        """The reference's order: G, then D, on the same G(x) and one D forward of x."""
        images = batch.images
        opt_g, opt_d = self.optimizers()
        hp = self.hparams

        generated = self.generator(images)
        fake = generated.fake
        real_logits, real_features = self.discriminator(images)
        adv = self.adversarial_loss(real_features, fake)
        con = F.l1_loss(fake, images)
        enc = F.mse_loss(generated.reconstructed_latent, generated.latent)
        g_loss = hp.w_adv * adv + hp.w_con * con + hp.w_enc * enc
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()
        d_loss = self.discriminator_step(opt_d, real_logits, fake)

        self.log_training(
            {
                "train/g_loss": g_loss,
                "train/d_loss": d_loss,
                "train/adv": adv,
                "train/con": con,
                "train/enc": enc,
            }
        )

    def reconstruction(self, images: Tensor) -> Tensor:
        return self.generator(images).fake

    def anomaly_score(self, images: Tensor) -> Tensor:
        generated = self.generator(images)
        return latent_distance(
            generated.latent, generated.reconstructed_latent, self.hparams.score_norm
        )
