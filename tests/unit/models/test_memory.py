import math

import pytest
import torch

from anomaly_bench.models.components.memory import MemoryModule, attention_entropy, hard_shrink


@pytest.mark.parametrize("addressing", ["cosine", "dot"])
def test_weights_are_non_negative_rows_summing_to_one(addressing):
    memory = MemoryModule(20, 8, addressing)
    weights = memory(torch.randn(6, 8)).weights
    assert (weights >= 0).all()
    assert torch.allclose(weights.sum(dim=1), torch.ones(6))


def test_weights_below_the_threshold_become_exactly_zero():
    weights = torch.tensor([[0.5, 0.3, 0.15, 0.05]])
    shrunk = hard_shrink(weights, threshold=0.2, epsilon=1e-12)
    assert shrunk[0, 2] == 0 and shrunk[0, 3] == 0
    assert torch.allclose(shrunk[0, :2], torch.tensor([0.5, 0.3]) / 0.8, atol=1e-6)


def test_zero_threshold_is_plain_attention():
    memory = MemoryModule(10, 4, "dot", shrink_threshold=0.0)
    z = torch.randn(3, 4)
    expected = (z @ memory.memory.T).softmax(dim=1)
    readout = memory(z)
    assert torch.allclose(readout.weights, expected)
    assert torch.allclose(readout.output, expected @ memory.memory)


def test_cosine_addressing_ignores_query_scale():
    memory = MemoryModule(10, 4, "cosine")
    z = torch.randn(3, 4)
    assert torch.allclose(memory(z).weights, memory(5 * z).weights, atol=1e-6)


def test_gradients_reach_the_memory():
    memory = MemoryModule(10, 4, "dot")
    memory(torch.randn(3, 4)).output.sum().backward()
    assert memory.memory.grad is not None and memory.memory.grad.abs().sum() > 0


def test_entropy_matches_a_hand_computation_with_zero_weights():
    weights = torch.tensor([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    # Row 1: -2 * 0.5 * log 0.5 = log 2; row 2: 0 (zeros count as log 1, eq. 29). Mean over rows.
    assert attention_entropy(weights).item() == pytest.approx(math.log(2) / 2)


def test_feature_map_form_equals_the_vector_form_at_each_position():
    memory = MemoryModule(12, 5, "cosine")
    maps = torch.randn(2, 5, 3, 3)
    readout = memory(maps)
    assert readout.output.shape == maps.shape and readout.weights.shape == (2, 3, 3, 12)
    at_position = memory(maps[:, :, 1, 2])
    assert torch.allclose(readout.output[:, :, 1, 2], at_position.output, atol=1e-6)
    assert torch.allclose(readout.weights[:, 1, 2], at_position.weights, atol=1e-6)


def test_bad_settings_are_refused_by_name():
    with pytest.raises(ValueError, match=r"addressing='l2'.*cosine, dot"):
        MemoryModule(4, 4, "l2")
    with pytest.raises(ValueError, match=r"model\.memory_size=0 is not allowed; allowed: a"):
        MemoryModule(0, 4)
    with pytest.raises(ValueError, match=r"\[B, C\] or \[B, C, H, W\]"):
        MemoryModule(4, 4)(torch.randn(2, 4, 3))
