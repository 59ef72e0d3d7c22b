"""The one error for a setting outside its allowed values, so every message has the same shape."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar, get_type_hints


def check_choice(key: str, value: object, allowed: Iterable[object]) -> None:
    """Raise `key=value is not allowed; allowed: ...` unless value is one of `allowed`, of the
    same type: `true` is not class 1, nor `1.0`."""
    allowed = tuple(allowed)
    if not any(value == choice and type(value) is type(choice) for choice in allowed):
        raise ValueError(f"{key}={value!r} is not allowed; allowed: {', '.join(map(str, allowed))}")


def _number(value: object) -> bool:
    """A finite int or float; never a boolean."""
    return not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)


@dataclass(frozen=True)
class Allowed:
    """What a model setting may hold: the words of its error and the test of a value."""

    words: str
    test: Callable[[object], bool]

    def check(self, key: str, value: object) -> None:
        if not self.test(value):
            raise ValueError(f"{key}={value!r} is not allowed; allowed: {self.words}")


POSITIVE_INT = Allowed(
    "a positive integer", lambda v: not isinstance(v, bool) and isinstance(v, int) and v >= 1
)
# A size, rate or epoch count given as any positive number.
POSITIVE = Allowed("a positive number", lambda v: _number(v) and v > 0)
# The same check by name, for the components that check a value where they use it.
check_positive = POSITIVE.check
# A seed, a worker count: 0 included.
NATURAL = Allowed(
    "an integer >= 0", lambda v: not isinstance(v, bool) and isinstance(v, int) and v >= 0
)

Value = TypeVar("Value")


def option_type(read: Callable[[str], Value], allowed: Allowed) -> Callable[[str], Value]:
    """An argparse `type` held to `allowed`: a command-line count is refused in the words of the
    setting it feeds, before anything starts (`--epochs 0` would otherwise read as unset)."""

    def parse(text: str) -> Value:
        try:
            value = read(text)
        except ValueError:
            value = text
        if not allowed.test(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not allowed; allowed: {allowed.words}")
        return value

    return parse


# A share that is neither none nor all: a false-alarm rate to aim a threshold at.
OPEN_SHARE = Allowed("a number in (0, 1)", lambda v: _number(v) and 0 < v < 1)

# The command-line counts: runs, batches, epochs (positive); warm-up batches (0 allowed); minutes;
# a rate.
COUNT_ARG = option_type(int, POSITIVE_INT)
NATURAL_ARG = option_type(int, NATURAL)
POSITIVE_ARG = option_type(float, POSITIVE)
SHARE_ARG = option_type(float, OPEN_SHARE)


def count_list_arg(text: str) -> list[int]:
    """An argparse `type` for a comma-separated list of counts (`--jobs 1,14,28`), each held to
    COUNT_ARG's rule and named alone when refused."""
    return [COUNT_ARG(part) for part in text.split(",")]


# How a model declares what a constructor parameter may hold: annotating it with one of these
# types is all it takes. The check before any build (check_model_settings) and the contract
# test's tiny sizes follow from the annotation, with no list to keep.
# A size, count or stage's epochs.
PositiveInt = Annotated[int, POSITIVE_INT]
# A loss weight or a threshold: a finite number, never negative.
NonNegative = Annotated[float, Allowed("a finite number >= 0", lambda v: _number(v) and v >= 0)]
# A share or probability that cannot be whole (dropout; a memory's shrink threshold; Adam's betas).
SHARE_BELOW_ONE = Allowed("a number in [0, 1)", lambda v: _number(v) and 0 <= v < 1)
ShareBelowOne = Annotated[float, SHARE_BELOW_ONE]
# The same, or off.
OptionalShareBelowOne = Annotated[
    float | None,
    Allowed("null (off) or a number in [0, 1)", lambda v: v is None or (_number(v) and 0 <= v < 1)),
]
# A positive bound, or none.
OptionalPositive = Annotated[
    float | None,
    Allowed("null (none) or a positive number", lambda v: v is None or (_number(v) and v > 0)),
]
# A count, or the method's own default.
OptionalPositiveInt = Annotated[
    int | None,
    Allowed(
        "null (the method's default) or a positive integer",
        lambda v: v is None or (not isinstance(v, bool) and isinstance(v, int) and v >= 1),
    ),
]


def declared_settings(model_class: type) -> dict[str, Allowed]:
    """{parameter: what it may hold} for the constructor parameters `model_class` annotates
    with one of the types above, its own and those of the classes it passes settings up to
    (a method that sets only its own settings and passes the rest to its scheme)."""
    declared: dict[str, Allowed] = {}
    for cls in reversed(model_class.__mro__):
        if "__init__" not in vars(cls):
            continue
        hints = get_type_hints(cls.__init__, include_extras=True)
        declared |= {
            name: allowed
            for name, hint in hints.items()
            for allowed in getattr(hint, "__metadata__", ())
            if isinstance(allowed, Allowed)
        }
    return declared


def positive_int_settings(model_class: type) -> tuple[str, ...]:
    """The constructor parameters `model_class` annotates as `PositiveInt`: its sizes."""
    return tuple(k for k, v in declared_settings(model_class).items() if v is POSITIVE_INT)


# The same inside a model's nested nodes: (node, key, its check).
NODE_SETTINGS = (("search", "steps", POSITIVE_INT), ("search", "lr", POSITIVE))


def check_model_settings(model: Mapping[str, Any], declared: Mapping[str, Allowed]) -> None:
    """Before a model is built: every setting its class declares (`declared_settings`) within
    what it allows, every optimiser's learning rate positive and betas in [0, 1), each named
    with its key (torch would fail later, and obscurely, or train on nonsense)."""
    for key, allowed in declared.items():
        if key in model:
            allowed.check(f"model.{key}", model[key])
    for node, key, allowed in NODE_SETTINGS:
        if isinstance(model.get(node), Mapping) and key in model[node]:
            allowed.check(f"model.{node}.{key}", model[node][key])
    for key, node in model.items():
        if key.endswith("optimizer") and isinstance(node, Mapping):
            if "lr" in node:
                POSITIVE.check(f"model.{key}.lr", node["lr"])
            for i, beta in enumerate(node.get("betas") or ()):
                SHARE_BELOW_ONE.check(f"model.{key}.betas[{i}]", beta)


# The run's own switches: booleans, not strings that happen to be truthy (`resume=no`).
RUN_FLAGS = ("resume", "skip_done", "select_epoch_on_test")


def check_run_settings(config: Mapping[str, Any], known_keys: Iterable[str]) -> None:
    """Before anything is built or skipped: the run's switches are booleans, its seed an
    integer, its thread count a positive integer or null, and no top-level key is one the
    configs do not know (`+no_such_top=1` would otherwise be silently ignored)."""
    for key in RUN_FLAGS:
        if not isinstance(config.get(key), bool):
            raise ValueError(f"{key}={config.get(key)!r} is not allowed; allowed: true, false")
    NATURAL.check("seed", config.get("seed"))
    if config.get("cpu_threads") is not None:
        POSITIVE_INT.check("cpu_threads", config["cpu_threads"])
    known = set(known_keys)
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(
            f"{unknown[0]} is not a setting of a run; allowed top-level keys: "
            f"{', '.join(sorted(known))}"
        )


def check_list(
    parser: argparse.ArgumentParser, option: str, value: str, allowed: Iterable[str]
) -> None:
    """Refuse a comma-separated option naming anything outside `allowed`, naming both."""
    allowed = list(allowed)
    unknown = sorted(set(value.split(",")) - set(allowed))
    if unknown:
        parser.error(f"{option}: {', '.join(unknown)} not allowed; allowed: {', '.join(allowed)}")
