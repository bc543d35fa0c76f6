"""A kind that is data: named objects of the state file, each at one API path.

Most of Vault's configuration objects are `<list path>/<name>`: listed with LIST, read with GET,
written with POST (writes merge, so every managed field is sent, defaults included, to make a
removal from the file a reset), deleted with DELETE. Such a kind is declared by a `DeclaredKind`:
its model (the fields, see spec/fields.py), where its objects sit (a `Place`: a top-level section,
a collection under each secrets engine of one type, or one object per engine) and a few named
quirks. Its desired values, live reads, replace rules, calls, prune and export derive from that.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from vault_state.kinds.base import ANY, Need, ReadScope, VaultReader, data_of, listing, pruned, reading
from vault_state.kinds.base import show_change as _pair
from vault_state.kinds.places import EngineSingleton, Place, TopLevel, TopSingleton
from vault_state.kinds.values import create_only, desired_values, field_specs, live_values, not_returned
from vault_state.plan.model import Action, Call, Change, Resource, ResourceId
from vault_state.spec.fields import CreateOnly, OneWay, adopts

if TYPE_CHECKING:  # spec.models imports the kinds' models: a type only here
    from vault_state.spec.models import Sections
    from vault_state.spec.sources import Resolver

Raw = dict[str, Any]


def unchanged(raw: Raw) -> Raw:
    return raw


CallsQuirk = Callable[["DeclaredKind", Change], list[Call]]
ReadAll = Callable[[VaultReader], dict[str, Raw]]


def same_path(path: str) -> str:
    return path


@dataclass(frozen=True)
class DeclaredKind:
    """`place`: where the objects sit. `lowercase`: Vault lowercases names, so ids are lowercase.
    `builtin`: names never deleted. `read_quirk`: undoes a Vault behaviour on the server's answer
    before it is made canonical. `calls_quirk`: the writes, where they are not one POST and one
    DELETE at the object's path (each quirk is a named function saying which Vault behaviour).
    `delete_loss`: what deleting an object destroys (then a delete needs --allow-destroy).
    `notes`: said in a plan about an object that exists and is not changed.
    `name_canon`: how Vault spells a name it stores (header names), applied to ids.
    `read_path`: where an object is read, from its API path (a query Vault needs, or another endpoint).
    `read_all`: for a collection Vault returns whole in one GET and cannot LIST (sys/audit): it reads
    that GET and returns each object's fields by name. `warn`: the plan's warnings for a change.
    `last_warning`: said on a delete that leaves the server none of this kind's objects.
    `unauthenticated`: the `exists_list` (or other sub-paths) Vault answers without a token: no
    policy needs them (vault-state required-policy leaves them out)."""

    name: str
    prune_key: str
    model: type[BaseModel]
    place: Place
    lowercase: bool = False
    builtin: frozenset[str] = frozenset()
    read_quirk: Callable[[Raw], Raw] = unchanged
    calls_quirk: CallsQuirk | None = None
    delete_loss: str = ""
    notes: tuple[str, ...] = field(default=())
    name_canon: Callable[[str], str] = same_path
    read_path: Callable[[str], str] = same_path
    read_all: ReadAll | None = None
    warn: Callable[[Change], list[str]] | None = None
    last_warning: str = ""
    unauthenticated: frozenset[str] = frozenset()

    @property
    def section(self) -> str:
        """The file's top-level key of a top-level kind ("" for one nested in engines)."""
        return self.place.section if isinstance(self.place, TopLevel | TopSingleton) else ""

    def _id(self, path: str) -> ResourceId:
        path = self.name_canon(path)
        return ResourceId(self.name, path.lower() if self.lowercase else path)

    def parent_of(self, rid: ResourceId) -> ResourceId | None:
        return self.place.parent(rid.path)

    def desired(self, state: Sections, resolver: Resolver) -> Iterable[Resource]:
        for path, loc, spec in self.place.objects(state):
            values, write_only = desired_values(spec, resolver, loc)
            rid = self._id(path)
            yield Resource(
                rid,
                values,
                write_only=write_only,
                location=resolver.source.locate(loc, key=True),
                prevent_destroy=bool(getattr(spec, "prevent_destroy", False)),
                api_path=self.place.api_path(rid.path),
                adopt=adopts(spec),
            )

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]:
        if not isinstance(self.place, TopSingleton) and not scope.needs(self.name, self.prune_key):
            return
        whole = {self._id(n): raw for n, raw in self.read_all(vault).items()} if self.read_all else None
        if whole is not None:
            ids = list(whole)
        elif isinstance(self.place, TopSingleton):
            ids = [self._id(self.place.name)]  # one object that always exists
        elif self.place.single:
            ids = [rid for rid in scope.desired if rid.kind == self.name and self._parent_kept(rid, scope)]
            if isinstance(self.place, EngineSingleton) and self.place.exists_list:
                ids = [rid for rid in ids if vault.list(f"{rid.path}/{self.place.exists_list}")]
        else:
            ids = [self._id(prefix + n) for prefix, path in self.place.listings(scope) for n in vault.list(path)]
        wanted = [rid for rid in ids if rid in scope.desired]
        if whole is not None:
            responses: list[Raw | None] = [{"data": whole[rid]} for rid in wanted]
        else:
            responses = vault.read_many([self.read_path(self.place.api_path(rid.path)) for rid in wanted])
        for rid, raw in zip(wanted, responses, strict=True):
            values = live_values(self.model, self.read_quirk(data_of(raw)))
            # Fields Vault never returns are not compared: the live side takes the file's values.
            declared = scope.desired[rid].values
            values.update({n: declared[n] for n in not_returned(self.model) if n in declared})
            yield Resource(rid, values, api_path=self.place.api_path(rid.path))
        # Objects the file does not declare are read for prune only: their names are enough.
        yield from (Resource(r, {}, api_path=self.place.api_path(r.path)) for r in ids if r not in scope.desired)

    def read_needs(self, scope: ReadScope) -> list[Need]:
        if not isinstance(self.place, TopSingleton) and not scope.needs(self.name, self.prune_key):
            return []
        mine = [rid for rid in scope.desired if rid.kind == self.name]
        if self.read_all:  # the listing path answers every object at once
            return [reading(path, f"{self.name}: every one in one read") for _, path in self.place.listings(scope)]
        needs = [listing(path, f"{self.name}: the names (plan, prune)") for _, path in self.place.listings(scope)]
        exists = self.place.exists_list if isinstance(self.place, EngineSingleton) else ""
        needs += [listing(f"{rid.path}/{exists}", f"{rid}: whether it exists") for rid in mine
                  if exists and exists not in self.unauthenticated]
        return needs + [reading(self.read_path(self.place.api_path(rid.path)), f"{rid}: compared") for rid in mine]

    def undeclared(self, scope: ReadScope) -> list[Resource]:
        if self.place.single or not pruned(scope, self.prune_key):
            return []
        ids = [ResourceId(self.name, prefix + ANY) for prefix, _ in self.place.listings(scope)]
        return [Resource(rid, {}, api_path=self.place.api_path(rid.path)) for rid in ids]

    def _parent_kept(self, rid: ResourceId, scope: ReadScope) -> bool:
        parent = self.parent_of(rid)
        if parent is None:
            return True
        live, wanted = scope.live.get(parent), scope.desired.get(parent)
        return live is not None and wanted is not None and live.values.get("type") == wanted.values.get("type")

    def _create_only(self) -> dict[str, CreateOnly]:
        return {f.name: f.create_only for f in field_specs(self.model) if f.create_only is not None}

    def changed_create_only(self, before: Resource, after: Resource) -> list[str]:
        return [n for n in self._create_only() if n in before.values and before.values[n] != after.values.get(n)]

    def replace_reasons(self, before: Resource, after: Resource) -> list[str]:
        old, new = before.values, after.values
        return [
            f"{name} can only be set when the object is created ({_pair(old.get(name), new.get(name))})"
            for name in self.changed_create_only(before, after)
        ]

    def refusal(self, before: Resource, after: Resource) -> str:
        """Why this change may never be applied, even with --allow-destroy ("" when it may)."""
        marks = self._create_only()
        reasons = [marks[n].refuse for n in self.changed_create_only(before, after) if marks[n].refuse]
        off = self._one_way(before, after, turned=False)
        if off:
            reasons.append(f"{' and '.join(off)} cannot be turned off: {self._one_way_marks()[off[0]].why}")
        return "; ".join(r for r in reasons if r)

    def _one_way_marks(self) -> dict[str, OneWay]:
        return {f.name: f.one_way for f in field_specs(self.model) if f.one_way is not None}

    def _one_way(self, before: Resource, after: Resource, turned: bool) -> list[str]:
        """The one-way flags this change turns on (`turned`) or off."""
        old, new = before.values, after.values
        return [n for n in self._one_way_marks() if old.get(n) is not turned and new.get(n) is turned]

    def data_loss(self, before: Resource, after: Resource | None) -> str:
        if after is None:
            return f"deletes {before.id}: {self.delete_loss}" if self.delete_loss else ""
        marks = self._create_only()
        lost = sorted({marks[n].loss for n in self.changed_create_only(before, after)} - {""})
        return f"deletes and re-creates {before.id}: {'; '.join(lost)}" if lost else ""

    def deletable(self, resource: Resource) -> bool:
        managed_elsewhere = bool(resource.managed_by)  # never ours to delete
        return not self.place.single and resource.id.path not in self.builtin and not managed_elsewhere

    def warnings(self, change: Change) -> list[str]:
        found = self.warn(change) if self.warn is not None else []
        if change.before is None or change.after is None:
            return found
        if change.action is Action.NOOP:
            return [*found, *self.notes]
        on = self._one_way(change.before, change.after, turned=True)
        return [*found, f"turns on {' and '.join(on)}: this cannot be undone"] if on else found

    def calls(self, change: Change) -> list[Call]:
        if self.calls_quirk is not None:
            return self.calls_quirk(self, change)
        return self.plain_calls(change)

    def plain_calls(self, change: Change) -> list[Call]:
        """DELETE for a delete; POST of every value (not the create-only ones on an update)."""
        path = self.place.api_path(change.id.path)
        if change.action is Action.DELETE:
            return [Call("DELETE", path)]
        assert change.after is not None
        body = {**change.after.values, **change.after.write_only}
        if change.action is Action.UPDATE:
            body = {k: v for k, v in body.items() if k not in create_only(self.model)}
        calls = [Call("POST", path, body)]
        if change.action is Action.REPLACE and not self.place.single:
            calls.insert(0, Call("DELETE", path))
        return calls
