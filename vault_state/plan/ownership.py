"""What the planner knows about ownership, as data: this stack's inventory, the other stacks', the
file's `adopt:` list, and which write-only values changed since the last apply (their fingerprints)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ownership:
    """`owned`: ids this stack's inventory holds; `others`: id -> the other stack holding it;
    `adopt`: ids the file takes over; `rotated`: `ID#FIELD` of write-only values whose fingerprint
    differs from the recorded one (or all, with --resend-write-only); `untracked`: `ID#FIELD` of
    write-only values with no fingerprint yet."""

    stack: str = "default"
    owned: frozenset[str] = frozenset()
    others: Mapping[str, str] = field(default_factory=dict)
    adopt: frozenset[str] = frozenset()
    rotated: frozenset[str] = frozenset()
    untracked: frozenset[str] = frozenset()


def value_key(rid: str, name: str) -> str:
    """How a write-only value is named in the inventory: the object's id, `#`, the field's path
    (names never hold `#`)."""
    return f"{rid}#{name}"
