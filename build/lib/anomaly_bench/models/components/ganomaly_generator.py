"""GANomaly's generator as a torch model: G_E -> (a memory, Mem_GANomaly's) -> G_D -> E.

GANomaly and Mem_GANomaly are Lightning wrappers around this one piece (anomalib's split between
a torch model and its Lightning wrapper); they differ in their training steps (GANomaly's order,
Algorithm 1's) and in whether a memory sits between G_E and G_D, not in the networks.
"""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor, nn

from anomaly_bench.models.components.dcgan import DcganDecoder, DcganEncoder
from anomaly_bench.models.components.memory import MemoryModule, MemoryReadout


@dataclass(frozen=True)
class GeneratorPass:
    """G(x), z = G_E(x), z^ = E(G(x)), and the memory's reading of z (None without a memory)."""

    fake: Tensor
    latent: Tensor
    reconstructed_latent: Tensor
    readout: MemoryReadout | None


class GanomalyGenerator(nn.Module):
    """`memory` starts empty and is set by the model that has one, after its other networks: the
    order the weights are drawn in, so a seed gives the weights it gave before this piece."""

    def __init__(self, image_size: int, in_channels: int, latent_dim: int, width: int) -> None:
        super().__init__()
        self.encoder = DcganEncoder(image_size, in_channels, latent_dim, width)
        self.decoder = DcganDecoder(image_size, in_channels, latent_dim, width)
        self.reencoder = DcganEncoder(image_size, in_channels, latent_dim, width)
        self.memory: MemoryModule | None = None

    def decode(self, latent: Tensor) -> tuple[Tensor, MemoryReadout | None]:
        """G_D(z), through the memory when there is one, and the memory's readout."""
        if self.memory is None:
            return self.decoder(latent), None
        readout = self.memory(latent)
        return self.decoder(readout.output), readout

    def forward(self, images: Tensor) -> GeneratorPass:
        latent = self.encoder(images)
        fake, readout = self.decode(latent)
        return GeneratorPass(fake, latent, self.reencoder(fake), readout)
