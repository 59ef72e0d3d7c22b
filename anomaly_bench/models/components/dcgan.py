"""The DCGAN encoder, decoder and discriminator every GAN method builds on.

Layouts follow the DCGAN paper as the GANomaly reference code instantiates it: 4x4 stride-2
convolutions, BatchNorm after all but the first encoder layer, LeakyReLU(0.2) in encoders,
ReLU and a tanh output in the decoder, no biases, N(0, 0.02) weights.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import torch
from torch import Tensor, nn
from torch.optim import Adam

from anomaly_bench.settings.checks import check_choice, check_positive

# The DCGAN paper's Adam (lr 2e-4, beta1 0.5), which the DCGAN, AnoGAN and GANomaly references use.
DCGAN_OPTIMIZER = partial(Adam, lr=2e-4, betas=(0.5, 0.999))
# Each is downsampled by 4x4 stride-2 convolutions to a 4x4 map: one more layer a doubling. 16-64
# are the papers' sizes; 128 and 256 keep the detail of one's own photos (GANomaly's reference
# code takes any multiple of 16), at 4x and 16x the pixels of 64.
IMAGE_SIZES = (16, 32, 64, 128, 256)
IMAGE_CHANNELS = (1, 3)


def check_image_shape(image_size: int, channels: int, width: int) -> None:
    """Fail before training when the nets cannot take this image shape or width, naming what
    they can."""
    check_choice("image_size", image_size, IMAGE_SIZES)
    check_choice("in_channels", channels, IMAGE_CHANNELS)
    check_positive("model.width", width)


def dcgan_initial_values(net: nn.Module) -> Iterator[tuple[Tensor, Tensor]]:
    """(parameter, a fresh draw of its initial value) for every conv and BatchNorm of `net`.

    DCGAN initialisation (Radford et al. 2016, sec. 4): conv N(0, 0.02), BN scale N(1, 0.02),
    BN shift 0.
    """
    for module in net.modules():
        if isinstance(module, nn.Conv2d | nn.ConvTranspose2d):
            yield module.weight, torch.empty_like(module.weight).normal_(0.0, 0.02)
        elif isinstance(module, nn.BatchNorm2d):
            yield module.weight, torch.empty_like(module.weight).normal_(1.0, 0.02)
            yield module.bias, torch.zeros_like(module.bias)


@torch.no_grad()
def init_dcgan_weights(net: nn.Module) -> None:
    for parameter, value in dcgan_initial_values(net):
        parameter.copy_(value)


def _encoder_features(
    image_size: int, in_channels: int, width: int, batch_norm: bool
) -> nn.Sequential:
    """Downsample to a 4x4 map with `width * 2**k` channels; the head is added by the caller."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, width, 4, 2, 1, bias=False),
        nn.LeakyReLU(0.2, inplace=True),
    ]
    size, channels = image_size // 2, width
    while size > 4:
        layers.append(nn.Conv2d(channels, channels * 2, 4, 2, 1, bias=False))
        if batch_norm:
            layers.append(nn.BatchNorm2d(channels * 2))
        layers.append(nn.LeakyReLU(0.2, inplace=True))
        size, channels = size // 2, channels * 2
    return nn.Sequential(*layers)


def final_feature_channels(image_size: int, width: int) -> int:
    """Channels of the encoders' last 4x4 feature map."""
    return width * (image_size // 8)


class DcganEncoder(nn.Module):
    """Image [B, C, S, S] to latent vector [B, latent_dim] (GANomaly's G_E and E)."""

    def __init__(self, image_size: int, in_channels: int, latent_dim: int, width: int = 64) -> None:
        super().__init__()
        check_image_shape(image_size, in_channels, width)
        check_positive("model.latent_dim", latent_dim)
        self.features = _encoder_features(image_size, in_channels, width, batch_norm=True)
        self.head = nn.Conv2d(
            final_feature_channels(image_size, width), latent_dim, 4, 1, 0, bias=False
        )
        init_dcgan_weights(self)

    def forward(self, images: Tensor) -> Tensor:
        return self.head(self.features(images)).flatten(1)


class DcganDecoder(nn.Module):
    """Latent vector [B, latent_dim] to image [B, C, S, S] in [-1, 1] (G_D, and every GAN's G).

    `head` lifts the vector to a 4x4 map with `final_feature_channels` channels and `body`
    upsamples such a map to the image, so a model that keeps the encoder's 4x4 map (MemAE's 2-D
    memory) decodes it with `body` alone.
    """

    def __init__(
        self, image_size: int, out_channels: int, latent_dim: int, width: int = 64
    ) -> None:
        super().__init__()
        check_image_shape(image_size, out_channels, width)
        check_positive("model.latent_dim", latent_dim)
        channels = final_feature_channels(image_size, width)
        self.head = nn.Sequential(
            nn.ConvTranspose2d(latent_dim, channels, 4, 1, 0, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
        )
        layers: list[nn.Module] = []
        size = 4
        while size < image_size // 2:
            layers += [
                nn.ConvTranspose2d(channels, channels // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(channels // 2),
                nn.ReLU(inplace=True),
            ]
            size, channels = size * 2, channels // 2
        layers += [nn.ConvTranspose2d(channels, out_channels, 4, 2, 1, bias=False), nn.Tanh()]
        self.body = nn.Sequential(*layers)
        init_dcgan_weights(self)

    def forward(self, latent: Tensor) -> Tensor:
        return self.body(self.head(latent.reshape(latent.shape[0], -1, 1, 1)))


class DcganDiscriminator(nn.Module):
    """Image to (logit [B], last feature map [B, F, 4, 4]).

    The logit is returned before any sigmoid so that one net serves the BCE GANs (through
    `binary_cross_entropy_with_logits`, numerically safer than the reference's Sigmoid + BCELoss)
    and the Wasserstein critics. `batch_norm=False` is for WGAN-GP, whose penalty is per-sample.
    """

    def __init__(
        self, image_size: int, in_channels: int, width: int = 64, batch_norm: bool = True
    ) -> None:
        super().__init__()
        check_image_shape(image_size, in_channels, width)
        self.features = _encoder_features(image_size, in_channels, width, batch_norm)
        self.head = nn.Conv2d(final_feature_channels(image_size, width), 1, 4, 1, 0, bias=False)
        init_dcgan_weights(self)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        features = self.features(images)
        return self.head(features).flatten(), features

    @torch.no_grad()
    def reset_parameters_where(self, condition: Tensor) -> None:
        """Re-draw every weight where the 0-dim bool `condition` holds, as the GANomaly
        reference does when D's loss collapses, without reading `condition` on the host: a
        training step that asked would wait for the GPU every time."""
        for parameter, value in dcgan_initial_values(self):
            parameter.copy_(torch.where(condition, value, parameter))
