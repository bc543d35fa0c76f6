"""The shape every auth type module fills in."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from vault_state.sensitive import Sensitive
from vault_state.spec.sources import Resolver

Loc = Sequence[str | int]
Values = dict[str, Any]
WriteOnly = dict[str, Sensitive]


def no_config(spec: Any, resolver: Resolver, loc: Loc) -> tuple[Values | None, WriteOnly]:
    return None, {}


def no_read(raw: dict[str, Any]) -> Values:
    return {}


@dataclass(frozen=True)
class AuthType:
    """`role_segment`: "role", or "users" for userpass. `partial`: compare declared keys only.
    `create_only`: role fields Vault accepts only when the role is created (sending them on an
    update is an error), so they are left out of updates and a change to one recreates the role;
    each maps to what re-creating the role loses, for the plan's DESTROYS DATA line."""

    role_segment: str
    config_values: Callable[[Any, Resolver, Loc], tuple[Values | None, WriteOnly]]
    read_config: Callable[[dict[str, Any]], Values]
    role_values: Callable[[Any, Resolver, Loc], tuple[Values, WriteOnly]]
    read_role: Callable[[dict[str, Any]], Values]
    has_config: bool = True
    partial: bool = False
    create_only: Mapping[str, str] = field(default_factory=dict)
    config_warnings: Callable[[Values | None, Values | None], list[str]] = lambda before, after: []
