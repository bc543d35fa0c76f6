"""What every resource kind provides, and the small shared normalisers they use.

A kind turns the spec into desired `Resource`s, reads live `Resource`s through a `VaultReader`,
says which field changes force a replace, and turns a `Change` into `Call`s (data, not I/O).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from vault_state.plan.deferred import facts_in
from vault_state.plan.model import Call, Change, Resource, ResourceId

if TYPE_CHECKING:  # the state file's model imports the kinds that declare their own models
    from vault_state.spec.models import Prune, Sections
    from vault_state.spec.sources import Resolver


class VaultReader(Protocol):
    """Reads for kinds. `read_many` may run its reads concurrently (the gateway bounds how many);
    kinds list first, then read every object they need in one `read_many`."""

    def read(self, path: str) -> dict[str, Any] | None: ...

    def read_many(self, paths: list[str]) -> list[dict[str, Any] | None]: ...

    def list(self, path: str) -> list[str]: ...

    def within(self, namespace: str) -> VaultReader:
        """A reader of a child namespace (`namespace` relative to this reader's)."""
        ...


@dataclass
class ReadScope:
    """What a live read needs to know: the desired objects, prune settings, and earlier kinds' reads."""

    desired: Mapping[ResourceId, Resource]
    prune: Prune
    live: dict[ResourceId, Resource]

    def needs(self, kind: str, prune_key: str) -> bool:
        """Whether any object of `kind` must be read: the file declares one, prune covers the kind,
        or a declared object names one's facts (an alias naming an auth method's accessor)."""
        return (
            bool(getattr(self.prune, prune_key, False))
            or any(rid.kind == kind for rid in self.desired)
            or any(f.of.kind == kind for r in self.desired.values() for f in facts_in(r.values))
        )


@dataclass(frozen=True)
class Need:
    """A path vault-state sends requests to (relative to the namespace it reads), the ACL
    capabilities those requests take, and why: `vault-state required-policy` is made of these."""

    path: str
    capabilities: tuple[str, ...]
    why: str


def reading(path: str, why: str) -> Need:
    """A GET; `?list=true` makes it a LIST to Vault's ACL, and the query is no part of the policy path."""
    bare, _, query = path.partition("?")
    return Need(bare, ("list",) if "list=true" in query else ("read",), why)


def listing(path: str, why: str) -> Need:
    return Need(path, ("list",), why)


ANY = "+"
"""The name of an object the file does not declare, in required-policy: `+` is one path segment to Vault's ACL."""


def pruned(scope: ReadScope, prune_key: str) -> bool:
    """Whether prune (`true` or `owned`) covers the kind."""
    return bool(prune_key) and bool(getattr(scope.prune, prune_key, False))


class Kind(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def prune_key(self) -> str: ...

    def desired(self, state: Sections, resolver: Resolver) -> Iterable[Resource]: ...

    def parent_of(self, rid: ResourceId) -> ResourceId | None:
        """The object this one lives in (a role's auth method, a key's engine): created first, and
        when it is created or replaced, this object starts from nothing."""
        ...

    def read(self, vault: VaultReader, scope: ReadScope) -> Iterable[Resource]: ...

    def read_needs(self, scope: ReadScope) -> list[Need]:
        """What `read` asks for in `scope`, when the server has every object the file declares
        (`scope.live` holds the desired objects): kept beside `read`, so they change together."""
        ...

    def undeclared(self, scope: ReadScope) -> list[Resource]:
        """One object of this kind that a prune in `scope` may delete, named `+` (any name); []
        when prune does not cover the kind. required-policy asks `calls` how it is deleted."""
        ...

    def replace_reasons(self, before: Resource, after: Resource) -> list[str]: ...

    def deletable(self, resource: Resource) -> bool: ...

    def refusal(self, before: Resource, after: Resource) -> str:
        """Why replacing `before` by `after` may never be applied, even with --allow-destroy ("" if it may)."""
        ...

    def data_loss(self, before: Resource, after: Resource | None) -> str:
        """What replacing `before` by `after` (deleting it, when `after` is None) destroys, as the
        plan prints it; "" when nothing is lost."""
        ...

    def warnings(self, change: Change) -> list[str]: ...

    def calls(self, change: Change) -> list[Call]: ...


def mount_data_loss(before: Resource, after: Resource | None) -> str:
    """Disabling a mount (secrets engine or auth method) deletes everything stored under it."""
    verb = "disables" if after is None else "disables and re-enables"
    return f"{verb} {before.id} and everything stored in it"


def nothing_lost(before: Resource, after: Resource | None) -> str:
    return ""


def no_parent(rid: ResourceId) -> ResourceId | None:
    return None


def never_refused(before: Resource, after: Resource) -> str:
    return ""


def strip_mount(path: str) -> str:
    """Mount keys in sys/mounts and sys/auth end in '/'; ids do not."""
    return path.rstrip("/")


def data_of(response: dict[str, Any] | None) -> dict[str, Any]:
    """The `data` of a Vault response (sys/mounts also repeats it at the top level; never use that)."""
    if not response:
        return {}
    data = response.get("data")
    return data if isinstance(data, dict) else {}


def changed_paths(change: Change) -> set[str]:
    return {d.path for d in change.diffs}


def touches(change: Change, prefix: str) -> bool:
    return any(p == prefix or p.startswith(prefix + ".") for p in changed_paths(change))


def show_change(before: Any, after: Any) -> str:
    """`old -> new` in JSON notation, as the plan's field diffs show values."""
    return f"{json.dumps(before)} -> {json.dumps(after)}"
