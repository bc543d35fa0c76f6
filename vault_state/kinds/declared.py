"""A kind that is data: named objects of one state-file section, each at one API path.

Most of Vault's configuration objects are `<list path>/<name>`: listed with LIST, read with GET,
written with POST (writes merge, so every managed field is sent, defaults included, to make a
removal from the file a reset), deleted with DELETE. Such a kind is declared by a `DeclaredKind`:
its model (the fields, see spec/fields.py), its paths and a few named quirks. Its desired values,
live reads, replace rules, calls, prune and export all derive from that declaration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from vault_state.kinds.base import ReadScope, VaultReader, data_of
from vault_state.kinds.base import show_change as _pair
from vault_state.kinds.values import create_only, desired_values, field_specs, live_values
from vault_state.plan.model import Action, Call, Change, Resource, ResourceId

if TYPE_CHECKING:  # spec.models imports the kinds' models: a type only here
    from vault_state.spec.models import StateFile
    from vault_state.spec.sources import Resolver

Raw = dict[str, Any]


def unchanged(raw: Raw) -> Raw:
    return raw


@dataclass(frozen=True)
class DeclaredKind:
    """`section`: the StateFile attribute holding `{name: model}`. `path`: the API path of the
    objects (`auth/token/roles`); an object is `<path>/<name>`. `lowercase`: Vault lowercases names,
    so ids are lowercase. `builtin`: names that are never deleted. `read_quirk`: undoes a Vault
    behaviour on the server's answer before it is made canonical (each names the behaviour)."""

    name: str
    prune_key: str
    section: str
    model: type[BaseModel]
    path: str
    lowercase: bool = False
    builtin: frozenset[str] = frozenset()
    read_quirk: Callable[[Raw], Raw] = unchanged

    def _objects(self, state: StateFile) -> Mapping[str, BaseModel]:
        objects: Mapping[str, BaseModel] = getattr(state, self.section)
        return objects

    def _id(self, name: str) -> ResourceId:
        return ResourceId(self.name, name.lower() if self.lowercase else name)

    def desired(self, state: StateFile, resolver: Resolver) -> Iterable[Resource]:
        for name, spec in self._objects(state).items():
            loc = (self.section, name)
            values, write_only = desired_values(spec, resolver, loc)
            yield Resource(
                self._id(name),
                values,
                write_only=write_only,
                location=resolver.source.locate(loc, key=True),
                prevent_destroy=bool(getattr(spec, "prevent_destroy", False)),
            )

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]:
        if not scope.needs(self.name, self.prune_key):
            return
        ids = [ResourceId(self.name, name) for name in vault.list(self.path)]
        wanted = [rid for rid in ids if rid in scope.desired]
        responses = vault.read_many([f"{self.path}/{rid.path}" for rid in wanted])
        for rid, raw in zip(wanted, responses, strict=True):
            yield Resource(rid, live_values(self.model, self.read_quirk(data_of(raw))))
        # Objects the file does not declare are read for prune only: their names are enough.
        yield from (Resource(rid, {}) for rid in ids if rid not in scope.desired)

    def replace_reasons(self, before: Resource, after: Resource) -> list[str]:
        old, new = before.values, after.values
        return [
            f"{name} can only be set when the object is created ({_pair(old.get(name), new.get(name))})"
            for name in create_only(self.model)
            if name in old and old.get(name) != new.get(name)
        ]

    def data_loss(self, before: Resource, after: Resource | None) -> str:
        if after is None:
            return ""
        lost = sorted({create_only(self.model)[n] for n in self._changed_create_only(before, after)} - {""})
        return f"deletes and re-creates {before.id}: {'; '.join(lost)}" if lost else ""

    def _changed_create_only(self, before: Resource, after: Resource) -> list[str]:
        return [n for n in create_only(self.model) if n in before.values and before.values[n] != after.values.get(n)]

    def deletable(self, resource: Resource) -> bool:
        return resource.id.path not in self.builtin

    def warnings(self, change: Change) -> list[str]:
        return []

    def calls(self, change: Change) -> list[Call]:
        path = f"{self.path}/{change.id.path}"
        if change.action is Action.DELETE:
            return [Call("DELETE", path)]
        assert change.after is not None
        body = {**change.after.values, **change.after.write_only}
        if change.action is Action.UPDATE:
            body = {k: v for k, v in body.items() if k not in create_only(self.model)}
        calls = [Call("POST", path, body)]
        if change.action is Action.REPLACE:
            calls.insert(0, Call("DELETE", path))
        return calls

    def field_names(self) -> list[str]:
        """The declared fields, for docs and export."""
        return [spec.name for spec in field_specs(self.model) if not spec.meta]
