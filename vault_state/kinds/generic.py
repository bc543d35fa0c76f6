"""Generic endpoints: any API path the tool has no kind for, written as free-form `data`.

The tool knows nothing of such a path's fields, so it normalises nothing: it compares only the
keys the file declares, as Vault returns them, and says so in the plan. Ids are `generic/<path>`.
vault-state keeps no record of what it wrote: an entry removed from the file is forgotten, and an
endpoint is deleted only while its entry says `delete: true` and `prune: {generic: true}` is set.

deepdiff was weighed for the comparison and not used: the planner's own walk (plan/planner.py
field_diffs) already compares nested JSON and yields the dotted FieldDiffs that the renderers,
saved plans and --target consume; deepdiff's extras (ignore_order, numeric and type leniency)
are normalisations a generic endpoint must not make, since it cannot know a field's meaning; and
it would see secrets unless each were swapped for a digest first. `ignore_fields` is ~10 lines.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, Discriminator, Field, Tag, WithJsonSchema, model_validator

from vault_state.kinds.base import Need, ReadScope, VaultReader, data_of, never_refused, nothing_lost, reading
from vault_state.kinds.generic_paths import check_path
from vault_state.plan.model import Action, Call, Change, Resource, ResourceId
from vault_state.sensitive import Sensitive, contains_sensitive
from vault_state.spec.fields import Adoptable
from vault_state.spec.types import EnvSource, FileSource, KubeCaSource, KubeSource, KubeTokenSource

if TYPE_CHECKING:
    from vault_state.spec.models import Sections
    from vault_state.spec.sources import Resolver

NOTE = "generic: compares declared keys only"
SOURCE_TAGS = ("env", "file", "kubernetes")


def _data_tag(value: Any) -> str:
    if isinstance(value, dict) and any(tag in value for tag in SOURCE_TAGS):
        return next(tag for tag in SOURCE_TAGS if tag in value)
    return "literal"


def _json(value: Any) -> Any:
    """A value Vault can be sent as JSON: YAML also has dates and infinities (unquoted 2024-01-01, .inf)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"key {key!r} must be a string (quote it)")
            _json(item)
    elif isinstance(value, list):
        for item in value:
            _json(item)
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} (.inf or .nan) cannot be sent as JSON")
    elif not isinstance(value, str | int | float | bool | None):
        raise ValueError(f"a {type(value).__name__.lower()} cannot be sent as JSON: quote it to send it as text")
    return value


# In the JSON Schema, a plain value is anything but a mapping naming a source, so that `oneOf`
# matches a source once.
_PLAIN_SCHEMA = {"not": {"type": "object", "anyOf": [{"required": [tag]} for tag in SOURCE_TAGS]}}
DataValue = Annotated[
    Annotated[Any, AfterValidator(_json), Tag("literal"), WithJsonSchema(_PLAIN_SCHEMA)]
    | Annotated[EnvSource, Tag("env")]
    | Annotated[FileSource, Tag("file")]
    | Annotated[KubeSource, Tag("kubernetes")],
    Discriminator(_data_tag),
]
"""Any JSON value, as sent; a mapping with `env`, `file` or `kubernetes` is a value source."""
SOURCES = (EnvSource, FileSource, KubeCaSource, KubeTokenSource)
GenericPath = Annotated[str, AfterValidator(check_path)]


class GenericEndpoint(Adoptable):
    data: dict[str, DataValue] | None = Field(
        None,
        description="The body written to the path ({} for none). Only these keys are compared, as Vault returns them.",
    )
    ignore_fields: list[str] = Field(
        default_factory=list,
        description="Keys inside declared values (dotted: `config.extra`) left out of the comparison.",
    )
    write_only_fields: list[str] = Field(
        default_factory=list,
        description="Keys of `data` Vault never returns: sent on every write, never compared, shown (sensitive).",
    )
    delete: bool = Field(
        False,
        description="Delete this path (with `prune: {generic: true}`); the entry then has no data.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> GenericEndpoint:
        if self.delete and (self.data is not None or self.ignore_fields or self.write_only_fields):
            raise ValueError(
                "an entry with 'delete: true' deletes the path (with prune: {generic: true}) and holds nothing "
                "else; vault-state keeps no record of removed entries, so to delete an endpoint replace its "
                "data by 'delete: true'"
            )
        if not self.delete and self.data is None:
            raise ValueError("'data' is required (or 'delete: true' to delete the path)")
        return self._fields_of(self.data or {})

    def _fields_of(self, data: dict[str, Any]) -> GenericEndpoint:
        for name in self.write_only_fields:
            if name not in data:
                raise ValueError(f"write_only_fields names {name!r}, which 'data' does not declare")
            if not isinstance(data[name], (str, *SOURCES)):
                raise ValueError(f"write-only field {name!r} must be a string or a value source ({{env}}, {{file}})")
        for path in self.ignore_fields:
            if _declared(data, path.split(".")):
                raise ValueError(f"ignore_fields names {path!r}, which 'data' declares: a field is managed or ignored")
        return self


def _declared(data: Any, parts: list[str]) -> bool:
    for part in parts:
        if not isinstance(data, dict) or part not in data:
            return False
        data = data[part]
    return True


class GenericKind:
    name = "generic"
    prune_key = "generic"
    refusal = staticmethod(never_refused)
    data_loss = staticmethod(nothing_lost)
    serial = True  # written one at a time in file order: an endpoint may need another (a role its key)

    def desired(self, state: Sections, resolver: Resolver) -> Iterable[Resource]:
        for path, entry in state.generic.items():
            loc = ("generic", path)
            location = resolver.source.locate(loc, key=True)
            rid = ResourceId(self.name, path)
            if entry.delete:
                yield Resource(rid, {}, location=location, api_path=path, absent=True, adopt=entry.adopt)
                continue
            values: dict[str, Any] = {}
            write_only: dict[str, Sensitive] = {}
            for key, value in (entry.data or {}).items():
                where = (*loc, "data", key)
                if key in entry.write_only_fields:
                    secret = resolver.resolve(value, where, secret=True)
                    assert isinstance(secret, Sensitive)
                    write_only[key] = secret
                else:
                    values[key] = resolver.resolve(value, where) if isinstance(value, SOURCES) else value
            ignored = tuple(entry.ignore_fields)
            yield Resource(rid, values, write_only, location, partial=("",), api_path=path, ignored=ignored,
                           adopt=entry.adopt)

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]:
        """The declared paths only (a generic path cannot be listed); a path Vault answers 404 for
        is absent. Entries with `delete: true` are read only when prune covers the kind."""
        wanted = [scope.desired[rid] for rid in scope.desired if rid.kind == self.name]
        wanted = [r for r in wanted if (not r.absent or scope.prune.generic) and self._mount_live(r.id, scope)]
        responses = vault.read_many([r.api_path for r in wanted])
        for resource, raw in zip(wanted, responses, strict=True):
            if raw is not None:
                yield Resource(resource.id, live_values(resource, data_of(raw)), api_path=resource.api_path)

    def _mount_live(self, rid: ResourceId, scope: ReadScope) -> bool:
        """Whether the path's mount may hold it: a mount the file declares and the server lacks is
        created by this apply, and a read under it would wait out "no handler for route" retries."""
        mount = self.parent_of(rid)
        return mount is None or mount not in scope.desired or mount in scope.live

    def read_needs(self, scope: ReadScope) -> list[Need]:
        wanted = [r for rid, r in scope.desired.items() if rid.kind == self.name]
        return [reading(r.api_path, f"{r.id}: compared") for r in wanted if not r.absent or scope.prune.generic]

    def undeclared(self, scope: ReadScope) -> list[Resource]:
        """Generic paths are never listed: prune deletes only the entries that say `delete: true`,
        which are declared (their delete is asked for as such)."""
        return []

    def parent_of(self, rid: ResourceId) -> ResourceId | None:
        """The mount the path is under, named by its first segment (`kv1/app`: secrets engine kv1;
        `auth/ldap/groups/a`: auth method ldap): when it is created or replaced, the endpoint starts
        from nothing, and --target brings it along. A mount of several segments is not recognised."""
        parts = rid.path.split("/")
        if parts[0] == "auth":
            return ResourceId("auth_method", parts[1]) if len(parts) > 2 else None
        return None if parts[0] in ("sys", "identity", "cubbyhole") else ResourceId("secrets_engine", parts[0])

    def replace_reasons(self, before: Resource, after: Resource) -> list[str]:
        return []

    def deletable(self, resource: Resource) -> bool:
        return True

    def warnings(self, change: Change) -> list[str]:
        return [NOTE] if change.action in (Action.CREATE, Action.UPDATE) else []

    def calls(self, change: Change) -> list[Call]:
        if change.action is Action.DELETE:
            assert change.before is not None
            return [Call("DELETE", change.before.api_path)]
        assert change.after is not None
        return [Call("POST", change.after.api_path, {**change.after.values, **change.after.write_only})]


def live_values(wanted: Resource, raw: dict[str, Any]) -> dict[str, Any]:
    """The server's values of the declared keys, as returned (undeclared and write-only keys are
    dropped unseen, ignored paths removed). Where the file's value is sensitive, the server's is
    kept as a Sensitive too, as text, so neither side prints."""
    values = {}
    for key, value in raw.items():
        if key not in wanted.values:
            continue
        value = _without(value, [p.split(".")[1:] for p in wanted.ignored if p.split(".")[0] == key])
        if contains_sensitive(wanted.values[key]):
            value = Sensitive(value if isinstance(value, str) else json.dumps(value))
        values[key] = value
    return values


def _without(value: Any, paths: list[list[str]]) -> Any:
    if not paths or not isinstance(value, dict):
        return value
    inner: dict[str, list[list[str]]] = {}
    for head, *rest in paths:
        inner.setdefault(head, []).append(rest)
    kept = {k: v for k, v in value.items() if all(inner.get(k, [["kept"]]))}  # a path ending at k drops k
    return {k: _without(v, [p for p in inner.get(k, []) if p]) for k, v in kept.items()}


KIND = GenericKind()
