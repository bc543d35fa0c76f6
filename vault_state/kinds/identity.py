"""Identity: entities, their aliases, groups and external groups' aliases (the `identity:` section).

Everything is named in the file; Vault addresses aliases and members by ids it assigns. Those
ids never reach the file or the plan's diff: live reads turn them into names (an alias's entity,
a group's members), and writes name them as facts (plan/deferred.py) settled when sent, so an
object created in the same apply is written after it exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, model_validator

from vault_state.kinds.base import (
    ANY,
    Need,
    ReadScope,
    VaultReader,
    data_of,
    never_refused,
    nothing_lost,
    pruned,
    reading,
    strip_mount,
)
from vault_state.kinds.declared import DeclaredKind
from vault_state.kinds.places import Flat, Loc
from vault_state.kinds.values import desired_values, live_values
from vault_state.plan.deferred import fact
from vault_state.plan.model import Action, Call, Change, Resource, ResourceId
from vault_state.spec.fields import Adoptable, CreateOnly, LowerNameSet, Meta, NameSet, StringMap
from vault_state.spec.types import Strict, check_mount_path, check_name

if TYPE_CHECKING:
    from vault_state.spec.models import Sections
    from vault_state.spec.sources import Resolver

IDENTITY_LISTS = ("identity/entity/name", "identity/group/name")
"""Listed before a plan when the file names entities or groups: the names it refers to must exist."""

AuthPath = Annotated[str, AfterValidator(check_mount_path)]
IdentityName = Annotated[str, AfterValidator(lambda name: check_name(name, "identity"))]


class Alias(Adoptable):
    """How a login through the auth method at `mount` is recognised: the name it logs in with."""

    mount: AuthPath = Field(description="The auth method's path (its accessor is looked up).")
    name: str = Field(min_length=1, description="The alias name: the user name, a claim's value, ...")


class Entity(Adoptable):
    policies: LowerNameSet = Field(default_factory=list, description="Policies its tokens get (lowercased).")
    metadata: StringMap = Field(default_factory=dict, description="Key/value strings (templated policies read them).")
    disabled: bool = Field(False, description="Tokens of a disabled entity are refused.")
    aliases: Annotated[list[Alias], Meta()] = Field(
        default_factory=list, description="One per auth method: `{mount: PATH, name: NAME}`."
    )

    @model_validator(mode="after")
    def _one_alias_per_mount(self) -> Entity:
        mounts = [a.mount for a in self.aliases]
        twice = sorted({m for m in mounts if mounts.count(m) > 1})
        if twice:  # Vault keeps one alias per auth method and entity
            raise ValueError(f"two aliases for mount '{twice[0]}': an entity has one alias per auth method")
        return self


class Group(Adoptable):
    type: Annotated[Literal["internal", "external"], CreateOnly()] = Field(
        "internal", description="internal: members listed here; external: members come from `alias`."
    )
    policies: LowerNameSet = Field(default_factory=list, description="Policies every member's token gets (lowercased).")
    metadata: StringMap = Field(default_factory=dict)
    member_entities: NameSet = Field(default_factory=list, description="Entity names (internal groups).")
    member_groups: NameSet = Field(default_factory=list, description="Group names (internal groups).")
    alias: Annotated[Alias | None, Meta()] = Field(
        None, description="External groups: the IdP group (`{mount, name}`) whose members belong to this group."
    )

    @model_validator(mode="after")
    def _members_by_type(self) -> Group:
        if self.type == "external" and (self.member_entities or self.member_groups):
            raise ValueError("an external group's members come from its alias; remove member_entities/member_groups")
        if self.type == "internal" and self.alias is not None:
            raise ValueError("only an external group has an alias; set type: external")
        return self


class Identity(Strict):
    entities: dict[IdentityName, Entity] = Field(default_factory=dict, description="Key: entity name.")
    groups: dict[IdentityName, Group] = Field(default_factory=dict, description="Key: group name.")


@dataclass(frozen=True)
class IdentitySection(Flat):
    """`identity.<section>: {name: object}`; objects at `<path>/<name>`."""

    section: str
    path: str

    def objects(self, state: Sections) -> Iterable[tuple[str, Loc, BaseModel]]:
        for name, spec in getattr(state.identity, self.section).items():
            yield name, ("identity", self.section, name), spec


def _names_by_id(vault: VaultReader, path: str) -> dict[str, str]:
    """id -> name of every entity or group: one LIST with key_info (GET `?list=true`)."""
    info = data_of(vault.read(f"{path}?list=true")).get("key_info") or {}
    return {key: str(value.get("name", "")) for key, value in info.items() if isinstance(value, dict)}


def _mounts_by_accessor(vault: VaultReader) -> dict[str, str]:
    return {
        m["accessor"]: strip_mount(key)
        for key, m in data_of(vault.read("sys/auth")).items()
        if isinstance(m, dict) and "accessor" in m
    }


ENTITY = DeclaredKind(
    name="identity_entity",
    prune_key="identity_entities",
    model=Entity,
    place=IdentitySection("entities", "identity/entity/name"),
)


class GroupKind(DeclaredKind):
    """Groups: members compared by name (Vault stores ids); a type change re-creates the group."""

    def desired(self, state: Sections, resolver: Resolver) -> Iterable[Resource]:
        for resource in super().desired(state, resolver):
            groups = [ResourceId(self.name, n) for n in resource.values["member_groups"]]
            entities = [ResourceId("identity_entity", n) for n in resource.values["member_entities"]]
            yield replace(resource, needs=(*groups, *entities))

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]:
        if not scope.needs(self.name, self.prune_key):
            return
        names = vault.list("identity/group/name")
        wanted = [n for n in names if ResourceId(self.name, n) in scope.desired]
        entities = _names_by_id(vault, "identity/entity/id") if wanted else {}
        groups = _names_by_id(vault, "identity/group/id") if wanted else {}
        for name, raw in zip(wanted, vault.read_many([f"identity/group/name/{n}" for n in wanted]), strict=True):
            data = data_of(raw)
            # Vault drops a deleted entity from its groups; an id the listing does not name (deleted
            # between the two reads) is shown as the id, so the plan removes it.
            data["member_entities"] = [entities.get(i, i) for i in data.get("member_entity_ids") or []]
            data["member_groups"] = [groups.get(i, i) for i in data.get("member_group_ids") or []]
            yield Resource(ResourceId(self.name, name), live_values(Group, data), api_path=self.place.api_path(name))
        yield from (Resource(ResourceId(self.name, n), {}) for n in names if n not in wanted)

    def read_needs(self, scope: ReadScope) -> list[Need]:
        needs = super().read_needs(scope)
        if any(rid.kind == self.name for rid in scope.desired):  # members are named through these
            needs += [reading(f"{path}?list=true", "group members: their names")
                      for path in ("identity/entity/id", "identity/group/id")]
        return needs

    def warnings(self, change: Change) -> list[str]:
        if change.action is not Action.REPLACE:
            return []
        return [f"{change.id}: changing type re-creates the group: its id changes and its alias is re-created"]

    def calls(self, change: Change) -> list[Call]:
        calls = self.plain_calls(change)
        if change.after is None:
            return calls
        body = calls[-1].body or {}
        entities, groups = body.pop("member_entities"), body.pop("member_groups")
        # Vault refuses member ids on an external group, even empty lists ("can't be set manually").
        if change.after.values["type"] == "internal":
            body["member_entity_ids"] = [fact(ResourceId("identity_entity", n), "id") for n in entities]
            body["member_group_ids"] = [fact(ResourceId("identity_group", n), "id") for n in groups]
        return calls


GROUP = GroupKind(
    name="identity_group",
    prune_key="identity_groups",
    model=Group,
    place=IdentitySection("groups", "identity/group/name"),
)


@dataclass(frozen=True)
class AliasKind:
    """Aliases of entities (`<entity>/<mount>`) or of external groups (`<group>`), at
    identity/<owner>-alias; Vault names them by id, their mount by accessor, their owner by
    `canonical_id`. Values: `name`, `mount`, `mount_accessor` (settled at plan time from the
    auth method, or after apply creates it) and the owner's name (an alias that moved shows it)."""

    name: str
    prune_key: str
    owner: str  # "entity" or "group"
    refusal = staticmethod(never_refused)
    data_loss = staticmethod(nothing_lost)

    @property
    def owner_kind(self) -> str:
        return f"identity_{self.owner}"

    def parent_of(self, rid: ResourceId) -> ResourceId | None:
        """A group's alias goes with its group (re-created on a type change). An entity is never
        re-created, and a new entity's alias may already exist under another entity: no parent."""
        return ResourceId(self.owner_kind, rid.path) if self.owner == "group" else None

    def _declared(self, state: Sections) -> Iterable[tuple[str, str, Loc, Alias]]:
        """(id path, owner, location, alias) of every alias in the file."""
        if self.owner == "entity":
            for name, entity in state.identity.entities.items():
                for index, alias in enumerate(entity.aliases):
                    yield f"{name}/{alias.mount}", name, ("identity", "entities", name, "aliases", index), alias
        else:
            for name, group in state.identity.groups.items():
                if group.alias is not None:
                    yield name, name, ("identity", "groups", name, "alias"), group.alias

    def desired(self, state: Sections, resolver: Resolver) -> Iterable[Resource]:
        for path, owner, loc, alias in self._declared(state):
            values, _ = desired_values(alias, resolver, loc)
            accessor = fact(ResourceId("auth_method", alias.mount), "accessor")
            yield Resource(
                ResourceId(self.name, path),
                {**values, "mount_accessor": accessor, self.owner: owner},
                location=resolver.source.locate(loc),
                needs=(ResourceId(self.owner_kind, owner),),
                adopt=alias.adopt,
            )

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]:
        if not scope.needs(self.name, self.prune_key):
            return
        info = data_of(vault.read(f"identity/{self.owner}-alias/id?list=true")).get("key_info") or {}
        owners = _names_by_id(vault, f"identity/{self.owner}/id")
        mounts = _mounts_by_accessor(vault)
        mine = [r for r in scope.desired.values() if r.id.kind == self.name]
        by_login = {(r.values["mount"], r.values["name"]): r.id for r in mine}
        for alias_id, raw in info.items():
            mount, owner = mounts.get(raw.get("mount_accessor", "")), owners.get(raw.get("canonical_id", ""))
            if mount is None or owner is None:
                continue
            own = ResourceId(self.name, f"{owner}/{mount}" if self.owner == "entity" else owner)
            # An alias the file gives another owner (entities merged, or a login created it first)
            # is the same alias: the plan shows its owner changing.
            rid = by_login.get((mount, raw.get("name")), own)
            if rid == own and ResourceId(self.owner_kind, owner) not in scope.desired:
                continue  # aliases of entities and groups the file does not declare are left alone
            values = {"mount": mount, "name": raw.get("name", ""), "mount_accessor": raw["mount_accessor"]}
            yield Resource(rid, {**values, self.owner: owner}, facts={"id": alias_id})

    def read_needs(self, scope: ReadScope) -> list[Need]:
        if not scope.needs(self.name, self.prune_key):
            return []
        why = f"{self.owner} aliases: listed with their {self.owner}s and auth methods"
        return [reading(f"identity/{self.owner}-alias/id?list=true", why),
                reading(f"identity/{self.owner}/id?list=true", why), reading("sys/auth", why)]

    def undeclared(self, scope: ReadScope) -> list[Resource]:
        if not pruned(scope, self.prune_key):
            return []
        return [Resource(ResourceId(self.name, ANY), {}, facts={"id": ANY})]

    def replace_reasons(self, before: Resource, after: Resource) -> list[str]:
        return []

    def deletable(self, resource: Resource) -> bool:
        return True

    def warnings(self, change: Change) -> list[str]:
        if change.action is not Action.UPDATE or change.before is None or change.after is None:
            return []
        old, new = change.before.values[self.owner], change.after.values[self.owner]
        if old == new:
            return []
        return [
            f"{change.id}: the alias {change.after.values['mount']}/{change.after.values['name']} belongs to "
            f"{self.owner} '{old}' on the server (merged, renamed or created by a login); apply moves it to '{new}'"
        ]

    def calls(self, change: Change) -> list[Call]:
        base = f"identity/{self.owner}-alias"
        if change.action is Action.DELETE:
            assert change.before is not None
            return [Call("DELETE", f"{base}/id/{change.before.facts['id']}")]
        assert change.after is not None
        values = change.after.values
        body: dict[str, Any] = {
            "name": values["name"],
            "mount_accessor": values["mount_accessor"],
            "canonical_id": fact(ResourceId(self.owner_kind, values[self.owner]), "id"),
        }
        if change.action is Action.UPDATE and change.before is not None:
            return [Call("POST", f"{base}/id/{change.before.facts['id']}", body)]
        return [Call("POST", base, body)]


ENTITY_ALIAS = AliasKind("identity_entity_alias", "identity_entity_aliases", "entity")
GROUP_ALIAS = AliasKind("identity_group_alias", "identity_group_aliases", "group")
KINDS = (ENTITY, ENTITY_ALIAS, GROUP, GROUP_ALIAS)
"""In apply order: an entity before its aliases and the groups naming it; a group before its alias."""
