"""Mem_GANomaly (Zhou & Xing, Computer Science 2022, sec. 3): GANomaly with a memory on z.

The memory module (dot addressing, eq. 15-21; `addressing="cosine"` gives MemAE's eq. 10) sits
between G_E and G_D of GANomaly's generator piece (`components/ganomaly_generator.py`). Each
batch follows Algorithm 1: update D (eq. 32), then G_E, G_D and M on the generator loss, then E
and M on L_enc. `update_rule` picks the generator loss: `eq31` (the default) is eq. 31 as
printed; `algorithm1` adds the -log D(G(x)) term that Algorithm 1 writes in both generator
updates (lines 10 and 12) and eq. 31 lacks. The paper gives neither the loss
weights nor the betas: w_adv/w_con/w_enc default to GANomaly's 1/50/1, the entropy weight to
MemAE's 0.0002, the betas to GANomaly's (0.5, 0.999).

Learning rate: the paper prints Adam 2e-3, and at 2e-3 the memory collapses (README,
Mem_GANomaly): |G_E(x)| grows into the thousands within a few dozen steps, the softmax over
z M^T turns one-hot, every image reads the same slot and the addressing gets no gradient again.
The default is 2e-4 everywhere (the GANomaly code the method builds on), which trains; the
printed value is one override away (`model.optimizer.lr=2e-3`), and `memory_lr` gives the
memory its own rate (2e-3 on the memory alone also trains).

One step costs one generator forward for D's update and G's (the same G(x), as Algorithm 1's
lines 2-6 compute it once), then E's update with G_E(x) as a fixed target; each backward pass
computes only the weight gradients its optimiser uses. The updates are those of three separate
full forwards and backwards (tested to float64 precision), at a fraction of their cost.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim import Optimizer

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.components.losses import feature_matching_loss, generator_bce_loss
from anomaly_bench.models.components.memory import (
    MemoryDiagnostics,
    MemoryModule,
    MemoryReadout,
    nonzero_weights,
)
from anomaly_bench.models.components.scores import latent_distance
from anomaly_bench.models.ganomaly import Ganomaly
from anomaly_bench.settings.checks import (
    NonNegative,
    OptionalShareBelowOne,
    PositiveInt,
    check_choice,
)

UPDATE_RULES = ("eq31", "algorithm1")


@contextmanager
def weights_fixed(*modules: nn.Module) -> Iterator[None]:
    """Gradients flow through `modules` to what lies before them, but not into their weights."""
    parameters = [p for module in modules for p in module.parameters() if p.requires_grad]
    for parameter in parameters:
        parameter.requires_grad_(False)
    try:
        yield
    finally:
        for parameter in parameters:
            parameter.requires_grad_(True)


class MemGanomaly(MemoryDiagnostics, Ganomaly):
    """G_E -> M -> G_D -> E against D; score eq. 33 = mean |G_E(t) - E(G_D(M(G_E(t))))|.

    Generator loss eq. 31: w_adv L_adv (eq. 22, feature matching) + w_con L_con (eq. 24, L2)
    + w_enc L_enc (eq. 25, L1) + w_entropy L_w (eq. 30). The paper min-max scales the score
    (eq. 34); that changes no ranking, so the raw score is kept (the metric callback scales).
    """

    def __init__(
        self,
        memory_size: PositiveInt = 100,
        shrink_threshold: OptionalShareBelowOne = None,
        addressing: str = "dot",
        w_entropy: NonNegative = 0.0002,
        score_norm: str = "l1",
        update_rule: str = "eq31",
        memory_lr: float | None = None,
        **settings: Any,
    ) -> None:
        """Settings besides the memory's and the update rule's are GANomaly's, passed through."""
        check_choice("update_rule", update_rule, UPDATE_RULES)
        if memory_lr is not None and not memory_lr > 0:
            raise ValueError(
                f"model.memory_lr={memory_lr!r} is not allowed; allowed: null or a positive rate"
            )
        memory = partial(
            MemoryModule, memory_size, addressing=addressing, shrink_threshold=shrink_threshold
        )
        super().__init__(score_norm=score_norm, memory=memory, **settings)

    @property
    def memory(self) -> MemoryModule:
        return self.generator.memory

    def scored_readout(self, images: Tensor) -> tuple[Tensor, MemoryReadout]:
        """Score eq. 33 (GANomaly's latent distance through the memory) and the readout."""
        generated = self.generator(images)
        score = latent_distance(
            generated.latent, generated.reconstructed_latent, self.hparams.score_norm
        )
        return score, generated.readout

    def _with_memory(self, networks: list[nn.Parameter]) -> list[dict]:
        """Parameter groups: the networks, and the memory at `memory_lr` when one is set."""
        memory: dict = {"params": list(self.memory.parameters())}
        if self.hparams.memory_lr is not None:
            memory["lr"] = self.hparams.memory_lr
        return [{"params": networks}, memory]

    def configure_optimizers(self) -> list[Optimizer]:
        networks = self.generator
        generator = [*networks.encoder.parameters(), *networks.decoder.parameters()]
        return [
            self.optimizer(self._with_memory(generator)),
            self.optimizer(self._with_memory(list(networks.reencoder.parameters()))),
            self.optimizer(self.discriminator.parameters()),
        ]

    def _gan_term(self, fake_logits: Tensor) -> Tensor:
        """Algorithm 1's -log D(G(x)) (lines 10 and 12); zero under eq. 31."""
        if self.hparams.update_rule == "algorithm1":
            return generator_bce_loss(fake_logits)
        return fake_logits.new_zeros(())

    def training_step(self, batch: Batch, batch_idx: int) -> None:
        images = batch.images
        opt_g, opt_e, opt_d = self.optimizers()
        hp = self.hparams

        # E and D are not G's to update: its loss reaches G_E, M and G_D through them, and their
        # own weights' gradients, which G's optimiser would not use, are never computed.
        with weights_fixed(self.generator.reencoder):
            generated = self.generator(images)
        fake, latent, readout = generated.fake, generated.latent, generated.readout
        real_logits, _ = self.discriminator(images)
        d_loss = self.discriminator_step(opt_d, real_logits, fake)

        with torch.no_grad():  # the target comes from D as just updated
            _, real_features = self.discriminator(images)
        with weights_fixed(self.discriminator):
            fake_logits, fake_features = self.discriminator(fake)
        adv = feature_matching_loss(real_features, fake_features)
        con = F.mse_loss(fake, images)
        enc = F.l1_loss(generated.reconstructed_latent, latent)
        g_loss = (
            hp.w_adv * adv
            + hp.w_con * con
            + hp.w_enc * enc
            + hp.w_entropy * readout.entropy
            + self._gan_term(fake_logits)
        )
        opt_g.zero_grad()
        self.manual_backward(g_loss)
        opt_g.step()

        e_loss = self._reencoder_loss(images)
        opt_e.zero_grad()
        self.manual_backward(e_loss)
        opt_e.step()

        self.log_training(
            {
                "train/g_loss": g_loss,
                "train/d_loss": d_loss,
                "train/e_loss": e_loss,
                "train/adv": adv,
                "train/con": con,
                "train/enc": enc,
                "train/entropy": readout.entropy,
                # Collapse shows here first: one slot per image, |z| in the thousands.
                "train/nonzero_slots": nonzero_weights(readout).mean(),
                "train/latent_norm": latent.detach().norm(dim=1).mean(),
            }
        )

    def _reencoder_loss(self, images: Tensor) -> Tensor:
        """E's and M's loss on the updated generator: G_E(x) is only a target, and G_D (and D,
        under Algorithm 1) pass gradients to M without computing their own weights' gradients."""
        networks = self.generator
        with torch.no_grad():
            latent = networks.encoder(images)
        with weights_fixed(networks.decoder, self.discriminator):
            fake, _ = networks.decode(latent)
            loss = self.hparams.w_enc * F.l1_loss(networks.reencoder(fake), latent)
            if self.hparams.update_rule == "algorithm1":
                loss = loss + self._gan_term(self.discriminator(fake)[0])
        return loss
