"""Values the server assigns (an auth method's accessor, an entity's id), referenced before they exist.

A `Fact` names one such value of one object. A `Deferred` is a value built from text and facts
(an alias's `mount_accessor`, a policy whose text names an accessor). The planner settles the
facts it can from the live snapshot; the rest show as `(known after apply)` and are settled by
apply, call by call, after the objects they belong to exist (they are ordered after them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from vault_state.errors import VaultStateError
from vault_state.plan.model import Call, ResourceId

UNKNOWN = "(known after apply)"


@dataclass(frozen=True)
class Fact:
    """The server-assigned value `name` of the object `of` (`accessor` of `auth_method/userpass`)."""

    of: ResourceId
    name: str


@dataclass(frozen=True)
class Deferred:
    """Text and facts joined: one fact alone (`mount_accessor`), or a policy text naming accessors."""

    parts: tuple[str | Fact, ...]

    @property
    def shown(self) -> str:
        """How the plan shows it: each fact still unknown as `(known after apply)`."""
        return "".join(p if isinstance(p, str) else UNKNOWN for p in self.parts)

    def settle(self, known: Callable[[Fact], str | None]) -> Deferred | str:
        """The facts `known` answers substituted; a plain string once none is left."""
        parts = tuple((known(p) or p) if isinstance(p, Fact) else p for p in self.parts)
        if all(isinstance(p, str) for p in parts):
            return "".join(p for p in parts if isinstance(p, str))
        return Deferred(parts)

    def __str__(self) -> str:
        return self.shown


def fact(of: ResourceId, name: str) -> Deferred:
    return Deferred((Fact(of, name),))


def facts_in(value: Any) -> Iterator[Fact]:
    """Every fact a JSON-like value still waits for."""
    if isinstance(value, Deferred):
        yield from (p for p in value.parts if isinstance(p, Fact))
    elif isinstance(value, dict):
        for item in value.values():
            yield from facts_in(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from facts_in(item)


def settle_all(value: Any, known: Callable[[Fact], str | None]) -> Any:
    """A copy of a JSON-like value with every Deferred settled as far as `known` answers."""
    if isinstance(value, Deferred):
        return value.settle(known)
    if isinstance(value, dict):
        return {k: settle_all(v, known) for k, v in value.items()}
    if isinstance(value, list):
        return [settle_all(v, known) for v in value]
    return value


def shown_all(value: Any) -> Any:
    """A copy for output: every Deferred as the text the plan shows."""
    if isinstance(value, Deferred):
        return value.shown
    if isinstance(value, dict):
        return {k: shown_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown_all(v) for v in value]
    return value


class UnsettledFact(VaultStateError):
    """Apply needed a fact the server does not have (its object was not created)."""


def settle_call(call: Call, known: Callable[[Fact], str | None]) -> Call:
    """The call with every fact settled; raises UnsettledFact naming one that `known` cannot answer."""
    if call.body is None or not any(True for _ in facts_in(call.body)):
        return call
    body = settle_all(call.body, known)
    missing = next(facts_in(body), None)
    if missing is not None:
        raise UnsettledFact(f"{call.method} {call.path} needs the {missing.name} of {missing.of}, which does not exist")
    return replace(call, body=body)
