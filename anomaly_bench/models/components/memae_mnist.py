"""The MemAE paper's own MNIST autoencoder, beside the shared DCGAN nets MemAE uses by default.

Gong et al. (ICCV 2019, the image experiments) give MemAE's image networks as Conv2(k, s, c)
layers (kernel, stride, output channels), each but the decoder's last followed by BatchNorm and
ReLU; for MNIST the encoder Conv2(1, 2, 16)-Conv2(3, 2, 32)-Conv2(3, 2, 64) and the decoder
Dconv2(3, 2, 64)-Dconv2(3, 2, 32)-Dconv2(3, 2, 1), the memory read at each position of the
encoder's map. The paper states no padding: a padding of 1 on the 3x3 layers (and transposed ones
that double the size) brings a 32x32 image back at 32x32 through a 4x4 map, the positions the
DCGAN stack's memory reads. The channels scale with `width` (16, 32, 64 at width 64, the DCGAN
stack's default), the decoder's output is linear as in the paper, the weights PyTorch's defaults.
"""

from __future__ import annotations

from torch import nn

from anomaly_bench.models.components.dcgan import check_image_shape

# The encoder's layers as (kernel, `width` divided by): Conv2(1, 2, 16)-Conv2(3, 2, 32)-
# Conv2(3, 2, 64) at width 64.
ENCODER_LAYERS = ((1, 4), (3, 2), (3, 1))


def _check(image_size: int, channels: int, width: int) -> None:
    check_image_shape(image_size, channels, width)
    if width % ENCODER_LAYERS[0][1]:
        raise ValueError(
            f"model.width={width} is not allowed with model.architecture=memae_mnist; allowed: a "
            "multiple of 4 (its layers have width/4, width/2 and width channels)"
        )


def memae_mnist_encoder(image_size: int, in_channels: int, width: int) -> nn.Sequential:
    """Image [B, C, S, S] to a map [B, width, S/8, S/8]: a 1x1 then two 3x3 stride-2 layers."""
    _check(image_size, in_channels, width)
    layers: list[nn.Module] = []
    channels = in_channels
    for kernel, divisor in ENCODER_LAYERS:
        layers += [
            nn.Conv2d(channels, width // divisor, kernel, 2, kernel // 2),
            nn.BatchNorm2d(width // divisor),
            nn.ReLU(inplace=True),
        ]
        channels = width // divisor
    return nn.Sequential(*layers)


def memae_mnist_decoder(image_size: int, out_channels: int, width: int) -> nn.Sequential:
    """A map [B, width, S/8, S/8] back to an image [B, C, S, S]: three 3x3 stride-2 transposed
    layers to width, width/2 and C channels, the last linear."""
    _check(image_size, out_channels, width)
    layers: list[nn.Module] = []
    for channels, next_channels in ((width, width), (width, width // 2)):
        layers += [
            nn.ConvTranspose2d(channels, next_channels, 3, 2, 1, output_padding=1),
            nn.BatchNorm2d(next_channels),
            nn.ReLU(inplace=True),
        ]
    layers.append(nn.ConvTranspose2d(width // 2, out_channels, 3, 2, 1, output_padding=1))
    return nn.Sequential(*layers)
