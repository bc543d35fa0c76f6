"""Namespaces: `sys/namespaces/<name>` in their parent namespace, with their custom_metadata.

OpenBao 2.x has namespaces in its open-source server, Vault in Enterprise. A namespace's own id is
`namespace/team-a` at the root and `team-a:namespace/staging` inside team-a; everything the file
declares inside one is read and written with X-Vault-Namespace (plan/namespaces.py walks them).
On OpenBao a POST replaces custom_metadata (a PATCH merges it), so every write is a POST of the
whole map. A delete destroys everything in the namespace; OpenBao refuses to delete a namespace
that still has child namespaces and deletes asynchronously, so a delete removes the descendants
first, deepest first, and each DELETE waits until the namespace is gone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from vault_state.kinds.base import (
    ANY,
    Need,
    ReadScope,
    VaultReader,
    data_of,
    listing,
    never_refused,
    no_parent,
    pruned,
    reading,
)
from vault_state.plan.model import Action, Call, Change, Resource, ResourceId
from vault_state.spec.fields import sorted_map
from vault_state.spec.types import FINGERPRINT_MOUNT, LOCK_MOUNT

TOOL_MOUNTS = (LOCK_MOUNT, FINGERPRINT_MOUNT)

if TYPE_CHECKING:
    from vault_state.spec.models import Sections
    from vault_state.spec.sources import Resolver

BUILTIN = frozenset(
    {"system", "identity", "cubbyhole", "ns_system", "ns_identity", "ns_cubbyhole", "token", "ns_token"}
)


def children(vault: VaultReader) -> dict[str, dict[str, Any]]:
    """The child namespaces of `vault`'s namespace: name -> their key_info (custom_metadata, ...)."""
    info = data_of(vault.read("sys/namespaces?list=true")).get("key_info") or {}
    return {str(key).rstrip("/"): value for key, value in info.items() if isinstance(value, dict)}


class NamespaceKind:
    name = "namespace"
    prune_key = "namespaces"
    parent_of = staticmethod(no_parent)
    refusal = staticmethod(never_refused)

    def desired(self, state: Sections, resolver: Resolver) -> Iterable[Resource]:
        for name, spec in state.namespaces.items():
            yield Resource(
                ResourceId(self.name, name),
                {"custom_metadata": sorted_map(spec.custom_metadata)},
                location=resolver.source.locate(("namespaces", name), key=True),
                prevent_destroy=spec.prevent_destroy,
                adopt=spec.adopt,
            )

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]:
        if not scope.needs(self.name, self.prune_key):
            return
        for name, info in children(vault).items():
            rid = ResourceId(self.name, name)
            values = {"custom_metadata": sorted_map(info.get("custom_metadata"))}
            if rid not in scope.desired:  # to be pruned: what it holds, for the plan and for the deletes
                values.update(contents(vault, name))
            yield Resource(rid, values)

    def read_needs(self, scope: ReadScope) -> list[Need]:
        if not scope.needs(self.name, self.prune_key):
            return []
        needs = [reading("sys/namespaces?list=true", "namespaces: the names and custom_metadata")]
        if pruned(scope, self.prune_key):  # what a namespace to delete holds (one level deep)
            why = f"namespace/{ANY}: what it holds, read before prune deletes it"
            needs += [reading(f"{ANY}/sys/mounts", why), reading(f"{ANY}/sys/auth", why),
                      listing(f"{ANY}/sys/policies/acl", why), reading(f"{ANY}/sys/namespaces?list=true", why)]
        return needs

    def undeclared(self, scope: ReadScope) -> list[Resource]:
        return [Resource(ResourceId(self.name, ANY), {})] if pruned(scope, self.prune_key) else []

    def replace_reasons(self, before: Resource, after: Resource) -> list[str]:
        return []

    def data_loss(self, before: Resource, after: Resource | None) -> str:
        if after is not None:
            return ""
        held = before.values.get("holds") or []
        inside = f": {', '.join(held)}" if held else " (it looks empty)"
        return f"deletes namespace {before.id.path} and everything in it{inside}"

    def deletable(self, resource: Resource) -> bool:
        return True

    def warnings(self, change: Change) -> list[str]:
        return []

    def calls(self, change: Change) -> list[Call]:
        name = change.id.path
        if change.action is Action.DELETE:
            assert change.before is not None
            nested = sorted(change.before.values.get("descendants") or [], key=lambda p: -p.count("/"))
            calls = []
            for path in nested:  # OpenBao refuses to delete a namespace that has children
                parent, _, leaf = f"{name}/{path}".rpartition("/")
                calls.append(Call("DELETE", f"sys/namespaces/{leaf}", namespace=parent, until_gone=True))
            return [*calls, Call("DELETE", f"sys/namespaces/{name}", until_gone=True)]
        assert change.after is not None
        # A POST replaces custom_metadata whole (a PATCH would merge): the server then equals the file.
        return [Call("POST", f"sys/namespaces/{name}", {"custom_metadata": change.after.values["custom_metadata"]})]


def contents(vault: VaultReader, name: str) -> dict[str, Any]:
    """What a namespace holds, counted (`holds`), and its descendant namespaces' paths relative to it."""
    inside = vault.within(name)
    mounts, methods = (
        [k for k, m in data_of(inside.read(path)).items()
         if isinstance(m, dict) and m.get("type") not in BUILTIN and k.rstrip("/") not in TOOL_MOUNTS]
        for path in ("sys/mounts", "sys/auth")
    )  # the tool's own mounts (the inventories of the namespace's objects) are not the user's
    policies = [p for p in inside.list("sys/policies/acl") if p not in ("default", "root")]
    descendants: list[str] = []
    for child in children(inside):
        descendants.append(child)
        descendants += [f"{child}/{d}" for d in contents(inside, child)["descendants"]]
    holds = [
        f"{len(items)} {what}" for items, what in (
            (mounts, "secrets engines"), (methods, "auth methods"), (policies, "policies"),
            (descendants, "namespaces"),
        ) if items
    ]
    return {"holds": holds, "descendants": descendants}


KIND = NamespaceKind()
