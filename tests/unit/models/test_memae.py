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
