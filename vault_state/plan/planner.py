"""The planner: desired and live snapshots in, a sorted `Plan` out. Pure: no I/O, no clock, no hvac.

Both snapshots are already in canonical form (each kind normalises its own reads and spec), so
the planner compares values field by field, asks each kind which differences force a replace,
and orders the result: deletes first in reverse kind order, then everything else in kind order.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from vault_state.kinds.registry import BY_NAME, ORDER
from vault_state.plan.model import Action, Change, FieldDiff, Plan, Resource, ResourceId
from vault_state.sensitive import Sensitive, contains_sensitive
from vault_state.spec.models import Prune

Snapshot = Mapping[ResourceId, Resource]


def plan(desired: Snapshot, live: Snapshot, prune: Prune) -> Plan:
    """Every desired object as create/update/replace/no-op; live objects the file lacks as deletes
    where `prune` makes their kind authoritative. Builtins are never deleted."""
    changes: dict[ResourceId, Change] = {}
    gone_parents: set[ResourceId] = set()
    for rid in sorted(desired, key=_order_key):
        before = live.get(rid)
        if _parent(rid) in gone_parents:
            before = None  # its parent (an auth method, an engine) is created or replaced: it starts from nothing
        change = _compare(rid, before, desired[rid])
        if change.action in (Action.CREATE, Action.REPLACE):
            gone_parents.add(rid)
        changes[rid] = change
    for rid, resource in live.items():
        if rid in desired or not getattr(prune, BY_NAME[rid.kind].prune_key, False):
            continue
        if _parent(rid) in gone_parents:
            continue  # goes with its parent
        if BY_NAME[rid.kind].deletable(resource):
            changes[rid] = _delete(resource)
    return Plan(tuple(sorted(_last_ones_warned(changes, desired, live).values(), key=_apply_order)))


def _last_ones_warned(changes: dict[ResourceId, Change], desired: Snapshot, live: Snapshot) -> dict[ResourceId, Change]:
    """A delete that leaves the server no object of its kind gets the kind's `last_warning` (the
    last audit device: Vault then records nothing). One pass over the snapshots per such kind."""
    deleted = {rid for rid, change in changes.items() if change.action is Action.DELETE}
    warned = {rid.kind: str(getattr(BY_NAME[rid.kind], "last_warning", "")) for rid in deleted}
    for kind, warning in warned.items():
        if not warning or any(r.kind == kind and r not in deleted for r in (*desired, *live)):
            continue
        for rid in (r for r in deleted if r.kind == kind):
            changes[rid] = replace(changes[rid], warnings=(*changes[rid].warnings, warning))
    return changes


def _compare(rid: ResourceId, before: Resource | None, after: Resource) -> Change:
    kind = BY_NAME[rid.kind]
    if before is not None and before.managed_by:
        return _managed_elsewhere(rid, before, after)
    if before is None:
        return Change(rid, Action.CREATE, None, after, field_diffs({}, after.values))
    diffs = field_diffs(_visible(before.values, after), after.values)
    if not diffs:
        noop = Change(rid, Action.NOOP, before, after)
        return replace(noop, warnings=tuple(kind.warnings(noop)))  # notes on an object kept as it is
    reasons = kind.replace_reasons(before, after)
    action = Action.REPLACE if reasons else Action.UPDATE
    loss = kind.data_loss(before, after) if reasons else ""
    refusal = kind.refusal(before, after)  # an in-place change may be refused too (a flag never turned off)
    change = Change(rid, action, before, after, diffs, "; ".join(reasons), data_loss=loss, refusal=refusal)
    return replace(change, warnings=tuple(kind.warnings(change)))


def _managed_elsewhere(rid: ResourceId, before: Resource, after: Resource) -> Change:
    """An object something else manages (`managed_by`): compared and shown, never written. Its live
    values are empty when the server lacks it: then the file asks for one that is not there."""
    diffs = field_diffs(before.values, after.values)
    if not diffs:
        return Change(rid, Action.NOOP, before, after)
    action = Action.UPDATE if before.values else Action.CREATE
    refusal = f"managed by {before.managed_by}; vault-state cannot change it: change it there, or change the file"
    return Change(rid, action, before if before.values else None, after, diffs, refusal=refusal)


def _delete(resource: Resource) -> Change:
    kind = BY_NAME[resource.id.kind]
    return Change(resource.id, Action.DELETE, resource, None, data_loss=kind.data_loss(resource, None))


def _visible(live: dict[str, Any], desired: Resource) -> dict[str, Any]:
    """Live values restricted to what the file declares where the resource compares partially."""
    values = dict(live)
    for path in desired.partial:
        if path == "":
            return {k: live.get(k) for k in desired.values}
        if isinstance(live.get(path), dict) and isinstance(desired.values.get(path), dict):
            values[path] = {k: live[path].get(k) for k in desired.values[path]}
    return values


def field_diffs(before: dict[str, Any], after: dict[str, Any]) -> tuple[FieldDiff, ...]:
    """Leaf-level differences as dotted paths; lists and non-dict values compare whole."""
    return tuple(_walk("", before, after))


_MISSING = object()


def _walk(prefix: str, before: Any, after: Any) -> Iterator[FieldDiff]:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            path = f"{prefix}.{key}" if prefix else str(key)
            yield from _walk(path, before.get(key, _MISSING), after.get(key, _MISSING))
        return
    if isinstance(after, dict) and before is _MISSING:
        yield from _walk(prefix, {}, after)
        return
    if not _equal(before, after):
        sensitive = contains_sensitive(before) or contains_sensitive(after)
        yield FieldDiff(prefix, None if before is _MISSING else before, None if after is _MISSING else after, sensitive)


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, Sensitive):
        return bool(a == b)
    if isinstance(b, Sensitive):
        return bool(b == a)
    if isinstance(a, bool) or isinstance(b, bool):  # True == 1 in Python, not in Vault
        return type(a) is type(b) and a == b
    return bool(a == b)


def _parent(rid: ResourceId) -> ResourceId | None:
    """The parent the kind names (in the kind's own terms), in the same namespace as `rid`."""
    parent = BY_NAME[rid.kind].parent_of(rid.local())
    return parent.within(rid.namespace) if parent is not None else None


def depth(rid: ResourceId) -> int:
    """How deep the object's namespace is (0: the root); a namespace counts as inside its parent."""
    return rid.namespace.count("/") + 1 if rid.namespace else 0


def _order_key(rid: ResourceId) -> tuple[int, int, str, str]:
    return ORDER[rid.kind], depth(rid), rid.namespace, rid.path


def _apply_order(change: Change) -> tuple[int, int, int, str, str]:
    rid = change.id
    if change.action is Action.DELETE:  # the reverse: inner objects first, deeper namespaces first
        return 0, -ORDER[rid.kind], -depth(rid), rid.namespace, rid.path
    return 1, ORDER[rid.kind], depth(rid), rid.namespace, rid.path
