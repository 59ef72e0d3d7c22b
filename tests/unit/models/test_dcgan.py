import pytest
import torch

from anomaly_bench.models.components.dcgan import (
    IMAGE_SIZES,
    DcganDecoder,
    DcganDiscriminator,
    DcganEncoder,
)


@pytest.mark.parametrize("size", IMAGE_SIZES)
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_for_every_supported_image(size, channels):
    images = torch.randn(2, channels, size, size)
    latent = DcganEncoder(size, channels, latent_dim=7, width=8)(images)
    assert latent.shape == (2, 7)
    decoded = DcganDecoder(size, channels, latent_dim=7, width=8)(latent)
    assert decoded.shape == images.shape and decoded.abs().max() <= 1
    logits, features = DcganDiscriminator(size, channels, width=8)(images)
    assert logits.shape == (2,) and features.shape[0] == 2 and features.shape[-1] == 4


@pytest.mark.parametrize(
    ("size", "channels", "message"),
    [(28, 1, "image_size=28.*16, 32, 64, 128, 256"), (32, 2, "in_channels=2")],
)
def test_unsupported_shapes_are_refused_by_name(size, channels, message):
    with pytest.raises(ValueError, match=message):
        DcganEncoder(size, channels, latent_dim=4)


def test_convolutions_have_no_bias_and_dcgan_init():
    net = DcganEncoder(32, 1, latent_dim=16)
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(conv.bias is None for conv in convs)
    assert abs(convs[1].weight.std().item() - 0.02) < 0.005


def test_discriminator_reset_redraws_weights_only_where_asked():
    net = DcganDiscriminator(16, 1, width=8)
    batch_norm = next(m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d))
    with torch.no_grad():
        batch_norm.bias.fill_(0.5)
    before = [p.clone() for p in net.parameters()]
    net.reset_parameters_where(torch.tensor(False))
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters(), strict=True))
    net.reset_parameters_where(torch.tensor(True))
    assert not torch.equal(before[-1], net.head.weight)
    assert torch.equal(batch_norm.bias, torch.zeros_like(batch_norm.bias))
    assert abs(net.head.weight.std().item() - 0.02) < 0.01
