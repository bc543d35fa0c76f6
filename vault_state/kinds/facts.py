"""Reading a fact (plan/deferred.py) from the server at apply time, once its object exists.

One reader per kind whose objects have server-assigned values that others name: an auth
method's accessor (aliases, templated policies), an entity's or a group's id (aliases, members).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vault_state.kinds.base import VaultReader, data_of
from vault_state.plan.deferred import Fact


def _accessor(data: dict[str, Any], path: str) -> str | None:
    mount = data.get(f"{path}/")
    return mount.get("accessor") if isinstance(mount, dict) else None


def _id(data: dict[str, Any], name: str) -> str | None:
    return data.get("id")


READERS: dict[tuple[str, str], tuple[Callable[[str], str], Callable[[dict[str, Any], str], str | None]]] = {
    ("auth_method", "accessor"): (lambda path: "sys/auth", _accessor),
    ("identity_entity", "id"): (lambda name: f"identity/entity/name/{name}", _id),
    ("identity_group", "id"): (lambda name: f"identity/group/name/{name}", _id),
}
"""(kind, fact) -> (the path it is read at, from the object's path; the fact out of that answer)."""


def read_at(fact: Fact) -> str | None:
    """The path a fact is read at (None for a fact no reader knows)."""
    reader = READERS.get((fact.of.kind, fact.name))
    return reader[0](fact.of.path) if reader is not None else None


def fact_reader(vault: VaultReader) -> Callable[[Fact, str], str | None]:
    """`known` for settle_call, given the namespace of the call that names the fact: reads each
    fact from the server (in that namespace) once it exists, then remembers it (a group of many
    members reads each member's id once). Facts are only read by changes ordered after the objects
    they belong to, so an id or accessor read during an apply stays valid."""
    found: dict[tuple[Fact, str], str] = {}

    def known(fact: Fact, namespace: str) -> str | None:
        if (fact, namespace) not in found:
            reader = READERS.get((fact.of.kind, fact.name))
            inside = vault.within(namespace) if namespace else vault
            value = reader[1](data_of(inside.read(reader[0](fact.of.path))), fact.of.path) if reader else None
            if value is None:
                return None
            found[(fact, namespace)] = value
        return found[(fact, namespace)]

    return known
