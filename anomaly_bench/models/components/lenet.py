"""The LeNet-type networks of Deep SVDD (Ruff et al., ICML 2018, sec. 4.1), without bias terms.

Bias terms are left out everywhere (and BatchNorm has no affine part) because a network with
biases can map every input to the centre c, the hypersphere collapse of the paper's Prop. 2.
Widths follow the reference code (github.com/lukasruff/Deep-SVDD-PyTorch, networks/): 8 and 4
5x5 filters and a 32-unit code for one channel (MNIST, Fashion-MNIST); 32, 64 and 128 filters
and a 128-unit code for three (CIFAR-10). LeakyReLU's slope is the code's 0.01.

Image sizes: the DCGAN sizes (16 to 256), and for one channel also MNIST's native 28x28, at
which the reference trains: there the decoder's second convolution crops 16x16 to 14x14 (the
reference's `padding=3` transposed convolution), so 4 -> 8 -> 14 -> 28.
"""

from __future__ import annotations

import math
from itertools import pairwise

import torch.nn.functional as F
from torch import Tensor, nn

from anomaly_bench.models.components.dcgan import IMAGE_SIZES
from anomaly_bench.settings.checks import check_choice

LENET_VARIANTS: dict[int, tuple[tuple[int, ...], int]] = {
    1: ((8, 4), 32),
    3: ((32, 64, 128), 128),
}
LENET_IMAGE_SIZES: dict[int, tuple[int, ...]] = {1: (16, 28, *IMAGE_SIZES[1:]), 3: IMAGE_SIZES}
BN_EPS = 1e-4
CODE_SIDE = 4  # the decoder starts from the code reshaped to [code / 16, 4, 4]
SAME_PADDING = 2  # a 5x5 convolution that keeps the size


def check_lenet_shape(image_size: int, channels: int) -> None:
    """Fail before training when the LeNet nets cannot take this shape, naming what they can."""
    check_choice("in_channels", channels, LENET_VARIANTS)
    check_choice("image_size", image_size, LENET_IMAGE_SIZES[channels])


def _norm(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, eps=BN_EPS, affine=False)


class LenetEncoder(nn.Module):
    """Image [B, C, S, S] to code [B, code_dim]: (conv 5x5, BN, LeakyReLU, max-pool) blocks + fc."""

    def __init__(self, image_size: int, in_channels: int) -> None:
        super().__init__()
        check_lenet_shape(image_size, in_channels)
        widths, self.code_dim = LENET_VARIANTS[in_channels]
        layers: list[nn.Module] = []
        previous = in_channels
        for width in widths:
            layers += [
                nn.Conv2d(previous, width, 5, padding=2, bias=False),
                _norm(width),
                nn.LeakyReLU(0.01),
                nn.MaxPool2d(2),
            ]
            previous = width
        self.features = nn.Sequential(*layers)
        side = image_size // 2 ** len(widths)
        self.fc = nn.Linear(previous * side * side, self.code_dim, bias=False)

    def forward(self, images: Tensor) -> Tensor:
        return self.fc(self.features(images).flatten(1))


def upsampling_scales(n_convs: int, total: int) -> list[int]:
    """The upsampling before each convolution: x2 before the last ones, as the reference.

    When the image needs more doublings than there are convolutions (one channel at 64x64),
    the first convolution takes the surplus.
    """
    doublings = int(math.log2(total))
    scales = [1] * max(n_convs - doublings, 0) + [2] * min(doublings, n_convs)
    scales[0] *= 2 ** max(doublings - n_convs, 0)
    return scales


def paddings(n_convs: int, image_size: int) -> list[int]:
    """Each convolution's padding: the same size everywhere, except where the doublings from the
    code overshoot the image (28 = 32 - 4): the second-to-last convolution crops half the excess
    (16 -> 14), which the last doubling brings to the whole of it, as the reference does."""
    excess = CODE_SIDE * 2 ** math.ceil(math.log2(image_size / CODE_SIDE)) - image_size
    padding = [SAME_PADDING] * n_convs
    padding[-2] -= excess // 4
    return padding


class LenetDecoder(nn.Module):
    """Code to image in [0, 1]: upsample x2 and 5x5 convolutions, mirroring the encoder."""

    def __init__(self, image_size: int, out_channels: int) -> None:
        super().__init__()
        check_lenet_shape(image_size, out_channels)
        widths, code_dim = LENET_VARIANTS[out_channels]
        channels = [code_dim // CODE_SIDE**2, *reversed(widths), out_channels]
        pads = paddings(len(channels) - 1, image_size)
        self.convs = nn.ModuleList(
            nn.Conv2d(a, b, 5, padding=pad, bias=False)
            for (a, b), pad in zip(pairwise(channels), pads, strict=True)
        )
        self.norms = nn.ModuleList(_norm(c) for c in channels[1:-1])
        doublings = 2 ** math.ceil(math.log2(image_size / CODE_SIDE))
        self.scales = upsampling_scales(len(self.convs), doublings)

    def forward(self, code: Tensor) -> Tensor:
        x = code.view(code.shape[0], -1, CODE_SIDE, CODE_SIDE)
        for index, (conv, scale) in enumerate(zip(self.convs, self.scales, strict=True)):
            x = F.leaky_relu(x, 0.01)
            if scale > 1:
                x = F.interpolate(x, scale_factor=scale)
            x = conv(x)
            if index < len(self.norms):
                x = self.norms[index](x)
        return x.sigmoid()
