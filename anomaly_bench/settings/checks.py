"""The one error for a setting outside its allowed values, so every message has the same shape."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, get_type_hints


def check_choice(key: str, value: object, allowed: Iterable[object]) -> None:
    """Raise `key=value is not allowed; allowed: ...` unless value is one of `allowed`, of the
    same type: `true` is not class 1, nor `1.0`."""
    allowed = tuple(allowed)
    if not any(value == choice and type(value) is type(choice) for choice in allowed):
        raise ValueError(f"{key}={value!r} is not allowed; allowed: {', '.join(map(str, allowed))}")


def check_positive_int(key: str, value: object) -> None:
    """Raise `key=value is not allowed; allowed: a positive integer` for sizes, counts, epochs."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{key}={value!r} is not allowed; allowed: a positive integer")


def check_positive(key: str, value: object) -> None:
    """Raise `key=value is not allowed; allowed: a positive number` for sizes, rates, epochs."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        raise ValueError(f"{key}={value!r} is not allowed; allowed: a positive number")


# A model's size, count or stage's epochs. Annotating a constructor parameter with it is how a
# model declares such a setting: the check before any build (check_model_settings) and the
# contract test's tiny sizes follow from the annotation, with no list to keep.
PositiveInt = Annotated[int, "a positive integer"]


def positive_int_settings(model_class: type) -> tuple[str, ...]:
    """The constructor parameters `model_class` annotates as `PositiveInt`."""
    hints = get_type_hints(model_class.__init__, include_extras=True)
    return tuple(name for name, hint in hints.items() if hint == PositiveInt)


# The same inside a model's nested nodes: (node, key, its check).
NODE_SETTINGS = (("search", "steps", "int"), ("search", "lr", "number"))


def check_model_settings(model: Mapping[str, Any], sizes: Iterable[str]) -> None:
    """Before a model is built: every size, count and stage's epochs (`sizes`, from
    `positive_int_settings`) positive, every optimiser's learning rate positive, each named with
    its key (torch would fail later, and obscurely)."""
    for key in sizes:
        if key in model:
            check_positive_int(f"model.{key}", model[key])
    for node, key, kind in NODE_SETTINGS:
        if isinstance(model.get(node), Mapping) and key in model[node]:
            check = check_positive_int if kind == "int" else check_positive
            check(f"model.{node}.{key}", model[node][key])
    for key, node in model.items():
        if key.endswith("optimizer") and isinstance(node, Mapping) and "lr" in node:
            check_positive(f"model.{key}.lr", node["lr"])


# The run's own switches: booleans, not strings that happen to be truthy (`resume=no`).
RUN_FLAGS = ("resume", "skip_done", "select_epoch_on_test")


def check_run_settings(config: Mapping[str, Any], known_keys: Iterable[str]) -> None:
    """Before anything is built or skipped: the run's switches are booleans, its seed an
    integer, its thread count a positive integer or null, and no top-level key is one the
    configs do not know (`+no_such_top=1` would otherwise be silently ignored)."""
    for key in RUN_FLAGS:
        if not isinstance(config.get(key), bool):
            raise ValueError(f"{key}={config.get(key)!r} is not allowed; allowed: true, false")
    seed = config.get("seed")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed={seed!r} is not allowed; allowed: an integer >= 0")
    if config.get("cpu_threads") is not None:
        check_positive_int("cpu_threads", config["cpu_threads"])
    known = set(known_keys)
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(
            f"{unknown[0]} is not a setting of a run; allowed top-level keys: "
            f"{', '.join(sorted(known))}"
        )
