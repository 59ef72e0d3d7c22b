"""MemAE (Gong et al., ICCV 2019): a convolutional autoencoder whose decoder reads a 2-D memory.

The encoder is the shared DCGAN encoder's feature stack; each position of its 4x4 feature map is
replaced by a sparse combination of memory slots (cosine addressing, eq. 10-11) and the DCGAN
decoder's upsampling stack rebuilds the image. Loss eq. 14: MSE + alpha * entropy, alpha 0.0002
and Adam lr 1e-4 as the reference code (github.com/donggong1/memae-anomaly-detection); 100 slots
as the MemAE paper's MNIST setting; shrink threshold 1/N as the paper's recommended lower end.

`architecture: memae_mnist` takes the MemAE paper's own MNIST autoencoder instead
(components/memae_mnist.py), a labelled override: the Mem_GANomaly paper does not say which
networks its MemAE column had, and the DCGAN stack keeps MemAE on the nets every GAN method here
shares.
"""

from __future__ import annotations

from functools import partial

import torch.nn.functional as F
from torch import Tensor, nn
from torch.optim import Adam, Optimizer

from anomaly_bench.data.batches import Batch
from anomaly_bench.models.base import AnomalyModule, OptimizerFactory
from anomaly_bench.models.components.dcgan import (
    DcganDecoder,
    DcganEncoder,
    final_feature_channels,
)
from anomaly_bench.models.components.memae_mnist import memae_mnist_decoder, memae_mnist_encoder
from anomaly_bench.models.components.memory import (
    MemoryDiagnostics,
    MemoryModule,
    MemoryReadout,
    nonzero_weights,
)
from anomaly_bench.models.components.scores import per_sample_mse
from anomaly_bench.settings.checks import (
    NonNegative,
    OptionalShareBelowOne,
    PositiveInt,
    check_choice,
)

MEMAE_OPTIMIZER: OptimizerFactory = partial(Adam, lr=1e-4)
ARCHITECTURES = ("dcgan", "memae_mnist")


def autoencoder(
    architecture: str, image_size: int, in_channels: int, width: int
) -> tuple[nn.Module, nn.Module, int]:
    """(encoder to a map, decoder from it, the map's channels) of the architecture named."""
    check_choice("model.architecture", architecture, ARCHITECTURES)
    if architecture == "memae_mnist":
        return (
            memae_mnist_encoder(image_size, in_channels, width),
            memae_mnist_decoder(image_size, in_channels, width),
            width,
        )
    # latent_dim is unused here: only the 4x4 feature stacks of the shared nets are kept.
    return (
        DcganEncoder(image_size, in_channels, latent_dim=1, width=width).features,
        DcganDecoder(image_size, in_channels, latent_dim=1, width=width).body,
        final_feature_channels(image_size, width),
    )


class Memae(MemoryDiagnostics, AnomalyModule):
    """Encoder -> 2-D memory -> decoder; score = per-image mean squared reconstruction error."""

    def __init__(
        self,
        image_size: int = 32,
        in_channels: int = 1,
        width: PositiveInt = 64,
        memory_size: PositiveInt = 100,
        shrink_threshold: OptionalShareBelowOne = None,
        w_entropy: NonNegative = 0.0002,
        optimizer: OptimizerFactory = MEMAE_OPTIMIZER,
        architecture: str = "dcgan",
    ) -> None:
        super().__init__()
        self.save_hyperparameters(ignore=["optimizer"])
        self.optimizer = optimizer
        self.encoder, self.decoder, features = autoencoder(
            architecture, image_size, in_channels, width
        )
        self.memory = MemoryModule(
            memory_size,
            features,
            addressing="cosine",
            shrink_threshold=shrink_threshold,
        )

    def memory_readout(self, images: Tensor) -> MemoryReadout:
        """The memory's reading of each position of the encoder's 4x4 map."""
        return self.memory(self.encoder(images))

    def reconstruct(self, images: Tensor) -> tuple[Tensor, MemoryReadout]:
        readout = self.memory_readout(images)
        return self.decoder(readout.output), readout

    def reconstruction(self, images: Tensor) -> Tensor:
        return self.reconstruct(images)[0]

    def configure_optimizers(self) -> Optimizer:
        return self.optimizer(self.parameters())

    def training_step(self, batch: Batch, batch_idx: int) -> Tensor:
        reconstruction, readout = self.reconstruct(batch.images)
        mse = F.mse_loss(reconstruction, batch.images)
        loss = mse + self.hparams.w_entropy * readout.entropy
        self.log_training(
            {
                "train/loss": loss,
                "train/mse": mse,
                "train/entropy": readout.entropy,
                "train/nonzero_slots": nonzero_weights(readout).mean(),
            }
        )
        return loss

    def scored_readout(self, images: Tensor) -> tuple[Tensor, MemoryReadout]:
        """Score: the per-image mean squared reconstruction error."""
        reconstruction, readout = self.reconstruct(images)
        return per_sample_mse(reconstruction, images), readout
