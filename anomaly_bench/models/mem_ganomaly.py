"""Mem_GANomaly (Zhou & Xing, Computer Science 2022, sec. 3): GANomaly with a memory on z.

The memory module (dot addressing, eq. 15-21; `addressing="cosine"` gives MemAE's eq. 10) sits
between G_E and G_D. Each batch follows Algorithm 1: update D (eq. 32), then G_E, G_D and M on
the generator loss (eq. 31), then E and M on L_enc. Algorithm 1 also writes a -log D(G(x)) term
in both generator updates that eq. 31 does not have; eq. 31 is followed here. The paper gives
Adam lr 2e-3 but neither the loss weights nor the betas: w_adv/w_con/w_enc default to GANomaly's
1/50/1, the entropy weight to MemAE's 0.0002, the betas to GANomaly's (0.5, 0.999). Memory size
and epochs per dataset are in the model's yaml.
"""

from __future__ import annotations

from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.optim import Adam, Optimizer

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.components.memory import MemoryModule, MemoryReadout
from anomaly_bench.models.ganomaly import Ganomaly, OptimizerFactory

PAPER_OPTIMIZER: OptimizerFactory = partial(Adam, lr=2e-3, betas=(0.5, 0.999))


class MemGanomaly(Ganomaly):
    """G_E -> M -> G_D -> E against D; score eq. 33 = mean |G_E(t) - E(G_D(M(G_E(t))))|.

    Generator loss eq. 31: w_adv L_adv (eq. 22, feature matching) + w_con L_con (eq. 24, L2)
    + w_enc L_enc (eq. 25, L1) + w_entropy L_w (eq. 30). The paper min-max scales the score
    (eq. 34); that changes no ranking, so the raw score is kept (the metric callback scales).
    """

    def __init__(
        self,
        image_size: int = 32,
        in_channels: int = 1,
        latent_dim: int = 100,
        width: int = 64,
        memory_size: int = 100,
        shrink_threshold: float | None = None,
        addressing: str = "dot",
        w_adv: float = 1.0,
        w_con: float = 50.0,
        w_enc: float = 1.0,
        w_entropy: float = 0.0002,
        score_norm: str = "l1",
        d_reinit_threshold: float = 1e-5,
        optimizer: OptimizerFactory = PAPER_OPTIMIZER,
    ) -> None:
        super().__init__(
            image_size,
            in_channels,
            latent_dim,
            width,
            w_adv,
            w_con,
            w_enc,
            score_norm,
            d_reinit_threshold,
            optimizer,
        )
        self.memory = MemoryModule(memory_size, latent_dim, addressing, shrink_threshold)

    def memory_readout(self, images: Tensor) -> MemoryReadout:
        """The memory's reading of z = G_E(x)."""
        return self.memory(self.encoder(images))

    def read_memory(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor, MemoryReadout]:
        """(G(x), z = G_E(x), z^ = E(G(x)), the memory readout of z); G = G_D after M."""
        latent = self.encoder(images)
        readout = self.memory(latent)
        fake = self.decoder(readout.output)
        return fake, latent, self.reencoder(fake), readout

    def reconstruct(self, images: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        fake, latent, reconstructed_latent, _ = self.read_memory(images)
        return fake, latent, reconstructed_latent

    def configure_optimizers(self) -> list[Optimizer]:
        generator = [
            *self.encoder.parameters(),
            *self.decoder.parameters(),
            *self.memory.parameters(),
        ]
        reencoder = [*self.reencoder.parameters(), *self.memory.parameters()]
        return [
            self.optimizer(generator),
            self.optimizer(reencoder),
            self.optimizer(self.discriminator.parameters()),
        ]

    def training_step(self, batch: Batch, batch_idx: int) -> None:
        images = batch.images
        opt_g, opt_e, opt_d = self.optimizers()
        hp = self.hparams

        with torch.no_grad():
            fake = self.read_memory(images)[0]
        real_logits, _ = self.discriminator(images)
        d_loss = self.discriminator_step(opt_d, real_logits, fake)

        fake, latent, reconstructed_latent, readout = self.read_memory(images)
        with torch.no_grad():  # the target comes from D as just updated
            _, real_features = self.discriminator(images)
        adv = self.adversarial_loss(real_features, fake)
        con = F.mse_loss(fake, images)
        enc = F.l1_loss(reconstructed_latent, latent)
        g_loss = hp.w_adv * adv + hp.w_con * con + hp.w_enc * enc + hp.w_entropy * readout.entropy
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()

        _, latent, reconstructed_latent, _ = self.read_memory(images)
        e_loss = hp.w_enc * F.l1_loss(reconstructed_latent, latent)
        opt_e.zero_grad()
        self.manual_backward(e_loss)
        opt_e.step()

        self.log_dict(
            {
                "train/g_loss": g_loss,
                "train/d_loss": d_loss,
                "train/e_loss": e_loss,
                "train/adv": adv,
                "train/con": con,
                "train/enc": enc,
                "train/entropy": readout.entropy,
            },
            prog_bar=True,
        )
