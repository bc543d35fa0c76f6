"""The plan's vocabulary: resource ids, resources, actions, field diffs, changes and the plan itself."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from vault_state.errors import Location
from vault_state.sensitive import Sensitive


@dataclass(frozen=True, order=True)
class ResourceId:
    """A resource named as KIND/PATH: `policy/eso-policy`, `auth_role/kubernetes/eso-role`; inside a
    namespace, prefixed with the namespace's path and a colon: `team-a/staging:policy/eso-policy`."""

    kind: str
    path: str
    namespace: str = ""

    def __str__(self) -> str:
        return f"{self.namespace}:{self.kind}/{self.path}" if self.namespace else f"{self.kind}/{self.path}"

    def local(self) -> ResourceId:
        """This id as the kinds name it, inside its namespace."""
        return ResourceId(self.kind, self.path)

    def within(self, namespace: str) -> ResourceId:
        return ResourceId(self.kind, self.path, namespace)


@dataclass(frozen=True)
class Resource:
    """One object on one side of a diff, in canonical form.

    `values` are compared field by field (JSON-like, Sensitive allowed at the leaves).
    `write_only` holds desired values Vault never returns: sent on writes, never compared.
    `partial` lists value paths ("" for the whole resource) compared only on the keys the file gives.
    `api_path` is the object's path in Vault's API where it differs from its id.
    `managed_by` (live side): what manages this object instead of the API (an OpenBao audit device
    declared in the server's configuration file); the plan compares it but apply refuses to write it.
    `facts` are values the server assigned to a live object (an auth method's accessor, an
    alias's id): never compared, used to settle desired values that name them (plan/deferred.py).
    `needs` are objects this one names by their server ids (a group's member groups): written first.
    `ignored` lists value paths (dotted) the comparison leaves out; the live side comes without them.
    `adopt`: the file takes this object over from whichever stack's inventory holds it (its
    `adopt: true`, docs/ownership.md).
    `absent`: the file asks that this object not exist (a generic endpoint's `delete: true`): it
    is deleted where prune covers its kind, never created or compared.
    """

    id: ResourceId
    values: dict[str, Any]
    write_only: dict[str, Sensitive] = field(default_factory=dict)
    location: Location | None = None
    prevent_destroy: bool = False
    partial: tuple[str, ...] = ()
    api_path: str = ""
    managed_by: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    needs: tuple[ResourceId, ...] = ()
    ignored: tuple[str, ...] = ()
    absent: bool = False
    adopt: bool = False


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    REPLACE = "replace"
    NOOP = "no-op"
    MOVE = "move"
    """A rename through sys/remount (a mount keeps its data); field changes ride along as an update."""

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "delete": "-", "replace": "-/+", "no-op": " ", "move": "~>"}[self.value]


@dataclass(frozen=True)
class FieldDiff:
    path: str
    before: Any
    after: Any
    sensitive: bool = False


@dataclass(frozen=True)
class Change:
    id: ResourceId
    action: Action
    before: Resource | None
    after: Resource | None
    diffs: tuple[FieldDiff, ...] = ()
    reason: str = ""
    data_loss: str = ""
    warnings: tuple[str, ...] = ()
    refusal: str = ""
    """Why apply must refuse this change even with --allow-destroy (a create-only field Vault can
    never change, such as a transit key's type); "" when it may run."""
    moved_from: ResourceId | None = None
    """The old id of a `moved:` entry: on a move, and on the create of a create-then-delete move."""
    moved_to: ResourceId | None = None
    """The new id, on the delete that ends a create-then-delete move (not a prune, not a destroy)."""

    @property
    def destroys_data(self) -> bool:
        """Whether applying this change loses data: `data_loss` says what, for the plan and the guard."""
        return bool(self.data_loss)

    @property
    def location(self) -> Location | None:
        resource = self.after or self.before
        return resource.location if resource else None


@dataclass(frozen=True)
class Plan:
    """Changes in apply order (no-ops included), with the counts of the closing summary."""

    changes: tuple[Change, ...]

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is not Action.NOOP)

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    def counts(self) -> dict[str, int]:
        """add/change/destroy as Terraform counts them: a replace is one add and one destroy; a
        move (sys/remount) is one change."""
        actions = [c.action for c in self.changes]
        return {
            "add": sum(a in (Action.CREATE, Action.REPLACE) for a in actions),
            "change": sum(a in (Action.UPDATE, Action.MOVE) for a in actions),
            "destroy": sum(a in (Action.DELETE, Action.REPLACE) for a in actions),
        }

    def fingerprint(self) -> str:
        """A digest of the actionable changes (ids, actions, field paths), free of values."""
        body = [(str(c.id), c.action.value, [d.path for d in c.diffs]) for c in self.actionable]
        return hashlib.sha256(json.dumps(body).encode()).hexdigest()


@dataclass(frozen=True)
class Call:
    """One HTTP request an apply will make: data, not I/O. `body` may hold Sensitive values.
    `show`: fields of Vault's answer the apply output shows (public values made on the server,
    such as an SSH CA's public key); never a secret."""

    method: str
    path: str
    body: dict[str, Any] | None = None
    namespace: str = ""
    """The namespace the call is sent in (X-Vault-Namespace), relative to the connection's."""
    until_gone: bool = False
    """After the call, wait until a GET of `path` answers 404 (OpenBao deletes namespaces asynchronously)."""
    show: tuple[str, ...] = ()
    until_moved: bool = False
    """After the call (POST sys/remount), wait until its migration reports success: OpenBao moves
    a mount in the background and answers with a migration_id."""


class Shown(str):
    """A line of the apply output made from Vault's answer to a call (`Call.show`), not a warning."""

    __slots__ = ()
