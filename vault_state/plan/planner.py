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
    """Every desired object as create/update/replace/no-op; live objects the file lacks, or asks to
    be absent, as deletes where `prune` makes their kind authoritative. Builtins are never deleted."""
    changes: dict[ResourceId, Change] = {}
    gone_parents: set[ResourceId] = set()
    for rid in sorted(desired, key=_order_key):
        if desired[rid].absent:  # the file asks for its deletion, which prune must allow
            if rid in live and getattr(prune, BY_NAME[rid.kind].prune_key):
                changes[rid] = _delete(replace(live[rid], location=desired[rid].location))
            continue
        before = live.get(rid)
        if BY_NAME[rid.kind].parent_of(rid) in gone_parents:
            before = None  # its parent (an auth method, an engine) is created or replaced: it starts from nothing
        change = _compare(rid, before, desired[rid])
        if change.action in (Action.CREATE, Action.REPLACE):
            gone_parents.add(rid)
        changes[rid] = change
    for rid, resource in live.items():
        if rid in desired or not getattr(prune, BY_NAME[rid.kind].prune_key):
            continue
        if BY_NAME[rid.kind].parent_of(rid) in gone_parents:
            continue  # goes with its parent
        if BY_NAME[rid.kind].deletable(resource):
            changes[rid] = _delete(resource)
    return Plan(tuple(sorted(changes.values(), key=_apply_order)))


def _compare(rid: ResourceId, before: Resource | None, after: Resource) -> Change:
    kind = BY_NAME[rid.kind]
    if before is None:
        created = Change(rid, Action.CREATE, None, after, field_diffs({}, after.values))
        return replace(created, warnings=tuple(kind.warnings(created)))
    diffs = field_diffs(_visible(before.values, after), after.values)
    if not diffs:
        return Change(rid, Action.NOOP, before, after)
    reasons = kind.replace_reasons(before, after)
    action = Action.REPLACE if reasons else Action.UPDATE
    loss = kind.data_loss(before, after) if reasons else ""
    refusal = kind.refusal(before, after) if reasons else ""
    change = Change(rid, action, before, after, diffs, "; ".join(reasons), data_loss=loss, refusal=refusal)
    return replace(change, warnings=tuple(kind.warnings(change)))


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


def _order_key(rid: ResourceId) -> tuple[int, str]:
    return ORDER[rid.kind], rid.path


def _apply_order(change: Change) -> tuple[int, int, int, str]:
    if change.action is Action.DELETE:
        return 0, -ORDER[change.id.kind], 0, change.id.path
    return 1, ORDER[change.id.kind], _file_rank(change), change.id.path


def _file_rank(change: Change) -> int:
    """The line of the object in the file, for kinds written one by one in file order (`serial`:
    generic endpoints, which may need one another, as an OIDC role needs its key); else 0."""
    serial = getattr(BY_NAME[change.id.kind], "serial", False)
    return change.location.line if serial and change.location is not None else 0
