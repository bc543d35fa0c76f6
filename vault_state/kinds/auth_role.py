"""Auth roles (and userpass users): `auth/<mount>/role/<name>` or `auth/<mount>/users/<name>`.

Role writes merge, so every managed field is sent with its default to make removals happen.
Write-only values (userpass passwords) are sent on create and whenever the object changes.
Create-only fields (approle's local_secret_ids) are left out of updates; changing one deletes the
role and creates it again. Fields an auth type keeps at a sub-path of the role (approle's role_id at
`role/<name>/role-id`) are read there, and written there after the role when they change.
Ids are `auth_role/<mount>/<name>`; names are lowercased as Vault stores them.
"""

from __future__ import annotations

from collections.abc import Iterable

from vault_state.kinds.auth import CREATE_ONLY_ROLE_FIELDS, SUB_PATH_FIELDS, auth_type
from vault_state.kinds.auth.shape import AuthType
from vault_state.kinds.base import ANY, Need, ReadScope, VaultReader, data_of, listing, never_refused, pruned, reading
from vault_state.kinds.base import show_change as _pair
from vault_state.kinds.values import kept_when_unset
from vault_state.plan.model import Action, Call, Change, Resource, ResourceId
from vault_state.spec.fields import adopts
from vault_state.spec.models import Sections
from vault_state.spec.semantics import role_section, roles_of
from vault_state.spec.sources import Resolver


class AuthRoleKind:
    name = "auth_role"
    refusal = staticmethod(never_refused)
    prune_key = "auth_roles"

    def desired(self, state: Sections, resolver: Resolver) -> Iterable[Resource]:
        for mount, method in state.auth_methods.items():
            kind = auth_type(method.type)
            section = role_section(method)
            members = roles_of(method) if not kind.partial else getattr(method, "roles", {})
            for name, spec in members.items():
                loc = ("auth_methods", mount, section, name)
                values, write_only = kind.role_values(spec, resolver, loc)
                values = kind.role_quirk(name.lower(), values)
                yield Resource(
                    ResourceId(self.name, f"{mount}/{name.lower()}"),
                    values,
                    write_only=write_only,
                    location=resolver.source.locate(loc, key=True),
                    prevent_destroy=bool(getattr(spec, "prevent_destroy", False)),
                    partial=("",) if kind.partial else (),
                    api_path=f"auth/{mount}/{kind.role_segment}/{name.lower()}",
                    adopt=adopts(spec),  # a generic auth type's role is free-form: no adopt there
                )

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]:
        listed: list[tuple[ResourceId, AuthType, str]] = []  # every role's id, type and API path
        for method_id, method in list(scope.live.items()):
            wanted = scope.desired.get(method_id)
            if method_id.kind != "auth_method" or wanted is None:
                continue  # roles are read only under auth methods the file manages
            if wanted.values["type"] != method.values["type"]:
                continue  # the method will be replaced; its roles go with it
            kind = auth_type(method.values["type"])
            base = f"auth/{method_id.path}/{kind.role_segment}"
            listed += [(ResourceId(self.name, f"{method_id.path}/{n}"), kind, f"{base}/{n}") for n in vault.list(base)]
        wanted_roles = [entry for entry in listed if entry[0] in scope.desired]
        responses = vault.read_many([path for _, _, path in wanted_roles])
        # A sub-path is read only for roles whose file gives one of its fields (only those compare them).
        subs = [
            (i, f"{path}/{sub.path}")
            for i, (rid, kind, path) in enumerate(wanted_roles)
            for sub in kind.sub_paths
            if any(f in scope.desired[rid].values for f in sub.fields)
        ]
        raws = [data_of(raw) for raw in responses]
        for (i, _), raw in zip(subs, vault.read_many([path for _, path in subs]), strict=True):
            raws[i] = {**raws[i], **data_of(raw)}
        for (rid, kind, path), raw in zip(wanted_roles, raws, strict=True):
            values = kind.read_role(raw)
            kept = kept_when_unset(kind.role_model) if kind.role_model else frozenset()
            values = {k: v for k, v in values.items() if k not in kept or k in scope.desired[rid].values}
            yield Resource(rid, kind.role_quirk(rid.path.rsplit("/", 1)[1], values), api_path=path)
        if scope.prune.auth_roles:  # the others: their names are enough
            yield from (Resource(rid, {}, api_path=path) for rid, _, path in listed if rid not in scope.desired)

    def _collections(self, scope: ReadScope) -> list[tuple[ResourceId, str]]:
        """(auth method, the LIST path of its roles) of each auth method the file declares."""
        methods = [(rid, r.values["type"]) for rid, r in scope.desired.items() if rid.kind == "auth_method"]
        return [(rid, f"auth/{rid.path}/{auth_type(kind).role_segment}") for rid, kind in methods]

    def read_needs(self, scope: ReadScope) -> list[Need]:
        needs = [listing(base, f"{rid}: its roles' names") for rid, base in self._collections(scope)]
        for rid, role in scope.desired.items():
            method = scope.desired.get(ResourceId("auth_method", rid.path.rsplit("/", 1)[0]))
            if rid.kind != self.name or method is None:
                continue
            kind = auth_type(method.values["type"])
            path = f"auth/{method.id.path}/{kind.role_segment}/{rid.path.rsplit('/', 1)[1]}"  # as `read` lists it
            needs.append(reading(path, f"{rid}: compared"))
            needs += [reading(f"{path}/{sub.path}", f"{rid}: {', '.join(sub.fields)} compared")
                      for sub in kind.sub_paths if any(f in role.values for f in sub.fields)]
        return needs

    def undeclared(self, scope: ReadScope) -> list[Resource]:
        if not pruned(scope, self.prune_key):
            return []
        return [Resource(ResourceId(self.name, f"{rid.path}/{ANY}"), {}, api_path=f"{base}/{ANY}")
                for rid, base in self._collections(scope)]

    def replace_reasons(self, before: Resource, after: Resource) -> list[str]:
        return [
            f"{name} can only be set when the role is created ({_pair(before.values[name], after.values[name])})"
            for name in _changed_create_only(before, after)
        ]

    def deletable(self, resource: Resource) -> bool:
        return True

    def parent_of(self, rid: ResourceId) -> ResourceId | None:
        return ResourceId("auth_method", rid.path.rsplit("/", 1)[0])

    def data_loss(self, before: Resource, after: Resource | None) -> str:
        """A replace (a create-only field changed) deletes the role and creates it again: what was
        issued for it is lost. A delete comes from prune, which the user opted into for the kind."""
        if after is None:
            return ""
        lost = sorted({CREATE_ONLY_ROLE_FIELDS[f] for f in _changed_create_only(before, after)})
        return f"deletes and re-creates {before.id}: {'; '.join(lost)}"

    def warnings(self, change: Change) -> list[str]:
        return []

    def calls(self, change: Change) -> list[Call]:
        if change.action is Action.DELETE:
            assert change.before is not None
            return [Call("DELETE", change.before.api_path)]
        assert change.after is not None
        body = {**change.after.values, **change.after.write_only}
        if change.action is Action.UPDATE:
            body = {k: v for k, v in body.items() if k not in CREATE_ONLY_ROLE_FIELDS}
        body = {k: v for k, v in body.items() if k not in SUB_PATH_FIELDS}
        calls = [Call("POST", change.after.api_path, body)]
        if change.action is Action.REPLACE:
            assert change.before is not None
            calls.insert(0, Call("DELETE", change.before.api_path))
        before = change.before.values if change.before and change.action is Action.UPDATE else {}
        for sub in sorted({SUB_PATH_FIELDS[k] for k in change.after.values if k in SUB_PATH_FIELDS}):
            fields = {k: v for k, v in change.after.values.items() if SUB_PATH_FIELDS.get(k) == sub}
            if any(before.get(k) != v for k, v in fields.items()):
                calls.append(Call("POST", f"{change.after.api_path}/{sub}", fields))
        return calls


def _changed_create_only(before: Resource, after: Resource) -> list[str]:
    old, new = before.values, after.values
    return [name for name in CREATE_ONLY_ROLE_FIELDS if name in old and name in new and old[name] != new[name]]


KIND = AuthRoleKind()
