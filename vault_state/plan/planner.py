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
from vault_state.plan.deferred import Deferred, Fact, facts_in, settle_all
from vault_state.plan.model import Action, Change, FieldDiff, Plan, Resource, ResourceId
from vault_state.plan.ownership import Ownership, value_key
from vault_state.sensitive import Sensitive, contains_sensitive
from vault_state.spec.models import Prune

Snapshot = Mapping[ResourceId, Resource]


def plan(desired: Snapshot, live: Snapshot, prune: Prune, ownership: Ownership | None = None) -> Plan:
    """Every desired object as create/update/replace/no-op; live objects the file lacks, or asks to
    be absent, as deletes where `prune` makes their kind authoritative (`owned`: only those the
    stack's inventory holds). Builtins are never deleted. `ownership` adds conflicts with other
    stacks, adoptions, and write-only values whose fingerprint changed."""
    owner = ownership or Ownership()
    changes: dict[ResourceId, Change] = {}
    gone_parents: set[ResourceId] = set()
    depth = _depths(desired)
    for rid in sorted(desired, key=lambda r: _order_key(desired[r], depth)):
        if desired[rid].absent:  # the file asks for its deletion, which prune must allow
            if rid in live and _prunes(prune, rid, owner):
                changes[rid] = _delete(replace(live[rid], location=desired[rid].location))
            continue
        before = live.get(rid)
        if _parent(rid) in gone_parents:
            before = None  # its parent (an auth method, an engine) is created or replaced: it starts from nothing
        change = _claimed(_compare(rid, before, _settled(desired[rid], live, gone_parents), owner), owner)
        if change.action in (Action.CREATE, Action.REPLACE):
            gone_parents.add(rid)
        changes[rid] = change
    for rid, resource in live.items():
        if rid in desired or not _prunes(prune, rid, owner):
            continue
        if _parent(rid) in gone_parents:
            continue  # goes with its parent
        if BY_NAME[rid.kind].deletable(resource):
            changes[rid] = _delete(resource)
    ordered = _last_ones_warned(changes, desired, live).values()
    return Plan(tuple(sorted(ordered, key=lambda c: _apply_order(c, depth))))


def _prunes(prune: Prune, rid: ResourceId, owner: Ownership) -> bool:
    """Whether prune may delete this live object: `true` for its kind, or `owned` and this stack's."""
    mode = getattr(prune, BY_NAME[rid.kind].prune_key, False)
    return mode is True or (mode == "owned" and str(rid) in owner.owned)


def _claimed(change: Change, owner: Ownership) -> Change:
    """An object another stack's inventory holds: refused unless the file adopts it (ownership then
    moves to this stack, which the plan says); left as it is, it gets a note only."""
    rid, other = str(change.id), owner.others.get(str(change.id))
    if rid in owner.adopt or (change.after is not None and change.after.adopt):
        source = f"from stack {other} " if other else ""
        return replace(change, warnings=(*change.warnings, f"adopted: ownership moves {source}to stack {owner.stack}"))
    if other is None:
        return change
    message = f"conflict: stack {other} owns it; add {rid} to `adopt:` to move it to stack {owner.stack}"
    if change.action is Action.NOOP:
        return replace(change, warnings=(*change.warnings, f"{message} (left as it is: nothing to write)"))
    return replace(change, refusal=change.refusal or f"{message}, or remove it from this file")


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


def _settled(resource: Resource, live: Snapshot, gone: set[ResourceId]) -> Resource:
    """The resource with the facts the live snapshot knows filled in; facts of objects this plan
    creates or replaces (ordered before it) stay unknown until apply. Facts name objects of the
    resource's own namespace."""
    namespace = resource.id.namespace

    def known(fact: Fact) -> str | None:
        of = fact.of.within(namespace)
        holder = live.get(of)
        if of in gone or holder is None:
            return None
        value = holder.facts.get(fact.name)
        return value if isinstance(value, str) else None

    if not any(True for _ in facts_in(resource.values)):
        return resource
    return replace(resource, values=settle_all(resource.values, known))


def _compare(rid: ResourceId, before: Resource | None, after: Resource, owner: Ownership) -> Change:
    kind = BY_NAME[rid.kind]
    if before is not None and before.managed_by:
        return _managed_elsewhere(rid, before, after)
    if before is None:
        created = Change(rid, Action.CREATE, None, after, field_diffs({}, after.values))
        return replace(created, warnings=tuple(kind.warnings(created)))
    diffs = field_diffs(_visible(before.values, after), after.values) + _rotated(rid, after, owner)
    if not diffs:
        noop = Change(rid, Action.NOOP, before, after)
        notes = [*kind.warnings(noop), *_untracked(rid, after, owner)]
        return replace(noop, warnings=tuple(notes))  # notes on an object kept as it is
    reasons = kind.replace_reasons(before, after)
    action = Action.REPLACE if reasons else Action.UPDATE
    loss = kind.data_loss(before, after) if reasons else ""
    refusal = kind.refusal(before, after)  # an in-place change may be refused too (a flag never turned off)
    change = Change(rid, action, before, after, diffs, "; ".join(reasons), data_loss=loss, refusal=refusal)
    return replace(change, warnings=tuple(kind.warnings(change)))


def _rotated(rid: ResourceId, after: Resource, owner: Ownership) -> tuple[FieldDiff, ...]:
    """Write-only values whose fingerprint changed: Vault never returns them, so the inventory's
    fingerprint is the only way to see the change. Shown as `(sensitive, changed)`."""
    return tuple(
        FieldDiff(name, None, after.write_only[name], True)  # the old value is unknown: only its fingerprint
        for name in sorted(after.write_only) if value_key(str(rid), name) in owner.rotated
    )


def _untracked(rid: ResourceId, after: Resource, owner: Ownership) -> list[str]:
    return [
        f"write-only {name} is not tracked (set outside vault-state?): sent and tracked when the object "
        "changes, or with apply --resend-write-only"
        for name in sorted(after.write_only) if value_key(str(rid), name) in owner.untracked
    ]


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
    if isinstance(a, Deferred) or isinstance(b, Deferred):
        return False  # a value known only after apply: written, since it cannot be compared
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


def namespace_depth(rid: ResourceId) -> int:
    """How deep the object's namespace is (0: the root); a namespace counts as inside its parent."""
    return rid.namespace.count("/") + 1 if rid.namespace else 0


def _depths(desired: Snapshot) -> dict[ResourceId, int]:
    """How many objects of its own kind each object waits for (a group naming a member group
    is written after it), along the longest chain of `needs`; a cycle counts once. `needs` name
    objects of the same namespace."""
    memo: dict[ResourceId, int] = {}

    def needed(rid: ResourceId) -> list[ResourceId]:
        return [n.within(rid.namespace) for n in desired[rid].needs]

    def depth(rid: ResourceId, seen: frozenset[ResourceId]) -> int:
        if rid not in memo:
            same = [n for n in needed(rid) if n.kind == rid.kind and n in desired and n not in seen]
            memo[rid] = max((1 + depth(n, seen | {rid}) for n in same), default=0)
        return memo[rid]

    return {rid: depth(rid, frozenset()) for rid in desired}


OrderKey = tuple[int, int, int, int, str, int, int, str]


def _order_key(resource: Resource, depth: Mapping[ResourceId, int]) -> OrderKey:
    """Kind order, except that an object naming facts of a later kind (a policy naming an auth
    method's accessor) comes after that kind: it is written once those objects exist. Then
    namespaces outer first; within a kind, an object comes after those it needs."""
    rid = resource.id
    waits = max((ORDER[f.of.kind] for f in facts_in(resource.values)), default=-1)
    kind = ORDER[rid.kind]
    return (
        max(kind, waits), int(waits > kind), kind, namespace_depth(rid), rid.namespace, _file_rank(resource),
        depth.get(rid, 0), rid.path,
    )


def _apply_order(change: Change, depth: Mapping[ResourceId, int]) -> tuple[int, OrderKey]:
    rid = change.id
    if change.action is Action.DELETE:  # the reverse: inner objects first, deeper namespaces first
        return 0, (-ORDER[rid.kind], 0, 0, -namespace_depth(rid), rid.namespace, 0, 0, rid.path)
    assert change.after is not None
    return 1, _order_key(change.after, depth)


def _file_rank(resource: Resource) -> int:
    """The line of the object in the file, for kinds written one by one in file order (`serial`:
    generic endpoints, which may need one another, as an OIDC role needs its key); else 0."""
    serial = getattr(BY_NAME[resource.id.kind], "serial", False)
    return resource.location.line if serial and resource.location is not None else 0
