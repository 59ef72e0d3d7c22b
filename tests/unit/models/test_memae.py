import pytest
import torch

from anomaly_bench.models.memae import Memae


def test_memory_addresses_every_position_of_the_feature_map():
    model = Memae(16, 1, width=8, memory_size=30).eval()
    _, readout = model.reconstruct(torch.rand(2, 1, 16, 16))
    assert readout.weights.shape == (2, 4, 4, 30)
    assert torch.allclose(readout.weights.sum(-1), torch.ones(2, 4, 4))


def test_score_is_the_mean_squared_reconstruction_error():
    model = Memae(16, 1, width=8).eval()
    images = torch.rand(3, 1, 16, 16)
    reconstruction, _ = model.reconstruct(images)
    expected = ((reconstruction - images) ** 2).mean(dim=(1, 2, 3))
    assert torch.allclose(model.anomaly_score(images), expected)


def test_shrink_threshold_defaults_to_one_over_n():
    assert Memae(16, 1, width=8, memory_size=40).memory.shrink_threshold == 1 / 40


def test_the_memae_papers_mnist_net_has_its_layers_and_reads_each_position_of_its_map():
    """Conv2(1,2,16)-Conv2(3,2,32)-Conv2(3,2,64) and Dconv2(3,2,64)-Dconv2(3,2,32)-Dconv2(3,2,1)
    at width 64: a 32x32 image through a 64-channel 4x4 map, back at 32x32, unbounded."""
    model = Memae(32, 1, memory_size=30, architecture="memae_mnist").eval()
    convs = [m for m in model.encoder if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size[0], c.stride[0], c.out_channels) for c in convs] == [
        (1, 2, 16),
        (3, 2, 32),
        (3, 2, 64),
    ]
    deconvs = [m for m in model.decoder if isinstance(m, torch.nn.ConvTranspose2d)]
    assert [(d.kernel_size[0], d.stride[0], d.out_channels) for d in deconvs] == [
        (3, 2, 64),
        (3, 2, 32),
        (3, 2, 1),
    ]
    assert isinstance(model.decoder[-1], torch.nn.ConvTranspose2d)  # no BN, ReLU or tanh
    reconstruction, readout = model.reconstruct(torch.rand(2, 1, 32, 32))
    assert reconstruction.shape == (2, 1, 32, 32)
    assert readout.weights.shape == (2, 4, 4, 30)
    assert model.memory.memory.shape[1] == 64


def test_an_unknown_architecture_or_a_width_the_paper_net_cannot_split_is_refused():
    with pytest.raises(ValueError, match=r"model.architecture='vgg' is not allowed; allowed"):
        Memae(32, 1, architecture="vgg")
    with pytest.raises(ValueError, match=r"model.width=30 is not allowed .* multiple of 4"):
        Memae(32, 1, width=30, architecture="memae_mnist")
