"""The one error for a setting outside its allowed values, so every message has the same shape."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def check_choice(key: str, value: object, allowed: Iterable[object]) -> None:
    """Raise `key=value is not allowed; allowed: ...` unless value is one of `allowed`."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{key}={value!r} is not allowed; allowed: {', '.join(map(str, allowed))}")


def check_positive(key: str, value: object) -> None:
    """Raise `key=value is not allowed; allowed: a positive number` for sizes, rates, epochs."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{key}={value!r} is not allowed; allowed: a positive number")


# Model settings that are sizes, counts or epochs: each must be positive wherever a model has it.
POSITIVE_SETTINGS = (
    "latent_dim",
    "width",
    "memory_size",
    "gan_epochs",
    "pretrain_epochs",
    "n_critic",
    "n_components",
    "estimation_hidden",
    "n_estimators",
)
# The same inside a model's nested nodes: (node, key).
POSITIVE_NODE_SETTINGS = (("search", "steps"), ("search", "lr"))


def check_model_settings(model: Mapping[str, Any]) -> None:
    """Before a model is built: every size, count and stage's epochs positive, every optimiser's
    learning rate positive, each named with its key (torch would fail later, and obscurely)."""
    for key in POSITIVE_SETTINGS:
        if key in model:
            check_positive(f"model.{key}", model[key])
    for node, key in POSITIVE_NODE_SETTINGS:
        if isinstance(model.get(node), Mapping) and key in model[node]:
            check_positive(f"model.{node}.{key}", model[node][key])
    for key, node in model.items():
        if key.endswith("optimizer") and isinstance(node, Mapping) and "lr" in node:
            check_positive(f"model.{key}.lr", node["lr"])
