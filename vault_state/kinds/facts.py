"""Reading a fact (plan/deferred.py) from the server at apply time, once its object exists.

One reader per kind whose objects have server-assigned values that others name: an auth
method's accessor (aliases, templated policies), an entity's or a group's id (aliases, members).
"""

from __future__ import annotations

from collections.abc import Callable

from vault_state.kinds.base import VaultReader, data_of
from vault_state.plan.deferred import Fact


def _accessor(vault: VaultReader, path: str) -> str | None:
    mount = data_of(vault.read("sys/auth")).get(f"{path}/")
    return mount.get("accessor") if isinstance(mount, dict) else None


def _entity_id(vault: VaultReader, name: str) -> str | None:
    return data_of(vault.read(f"identity/entity/name/{name}")).get("id")


def _group_id(vault: VaultReader, name: str) -> str | None:
    return data_of(vault.read(f"identity/group/name/{name}")).get("id")


READERS: dict[tuple[str, str], Callable[[VaultReader, str], str | None]] = {
    ("auth_method", "accessor"): _accessor,
    ("identity_entity", "id"): _entity_id,
    ("identity_group", "id"): _group_id,
}


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
            value = reader(inside, fact.of.path) if reader is not None else None
            if value is None:
                return None
            found[(fact, namespace)] = value
        return found[(fact, namespace)]

    return known
