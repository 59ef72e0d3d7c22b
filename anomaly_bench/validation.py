"""The one error for a setting outside its allowed values, so every message has the same shape."""

from __future__ import annotations

from collections.abc import Iterable


def check_choice(key: str, value: object, allowed: Iterable[object]) -> None:
    """Raise `key=value is not allowed; allowed: ...` unless value is one of `allowed`."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{key}={value!r} is not allowed; allowed: {', '.join(map(str, allowed))}")
