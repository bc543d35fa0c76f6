"""A secret value as a type: created where it is read, revealed only on the wire.

`Sensitive` prints as `(sensitive)` in str(), repr(), f-strings, logs and exceptions. Code that
needs the value calls `reveal()`; only the gateway does that, when it encodes a request body.
"""

from __future__ import annotations

import hashlib
from typing import Any

REDACTED = "(sensitive)"


class Sensitive:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def digest(self) -> str:
        """A SHA-256 of the value, to tell values apart without showing them."""
        return "sha256:" + hashlib.sha256(self._value.encode()).hexdigest()

    def __repr__(self) -> str:
        return REDACTED

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sensitive):
            return self._value == other._value
        if isinstance(other, str):
            return self._value == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._value)

    def map(self, fn: Any) -> Sensitive:
        """A new Sensitive holding fn(value), for normalisers."""
        return Sensitive(fn(self._value))


def reveal_all(value: Any) -> Any:
    """Deep copy of a JSON-like value with every Sensitive replaced by its clear value."""
    if isinstance(value, Sensitive):
        return value.reveal()
    if isinstance(value, dict):
        return {k: reveal_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [reveal_all(v) for v in value]
    return value


def redact_all(value: Any) -> Any:
    """Deep copy of a JSON-like value with every Sensitive replaced by `(sensitive)`."""
    if isinstance(value, Sensitive):
        return REDACTED
    if isinstance(value, dict):
        return {k: redact_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_all(v) for v in value]
    return value


def contains_sensitive(value: Any) -> bool:
    if isinstance(value, Sensitive):
        return True
    if isinstance(value, dict):
        return any(contains_sensitive(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(contains_sensitive(v) for v in value)
    return False
