"""Targeting, pure: a plan limited to the objects named with `--target KIND/PATH` and what they need.

An object needs its parent (a role its auth method, a key its engine), and a role the policies it
names. A parent that is created or replaced brings its children along (replacing wipes them).
"""

from __future__ import annotations

from collections.abc import Sequence

from vault_state.errors import VaultStateError
from vault_state.kinds.registry import BY_NAME
from vault_state.plan.deferred import facts_in
from vault_state.plan.model import Action, Change, Plan, ResourceId


class TargetError(VaultStateError):
    """A --target that is malformed or names no object of the plan."""


WHOLE_NAMESPACE = "*"
"""The kind of a target that names a whole namespace (`team-a:*`)."""


def parse_target(text: str) -> ResourceId:
    """`policy/eso-policy` -> ResourceId("policy", "eso-policy"); `team-a:policy/x` in namespace team-a;
    `team-a:*` the whole namespace (kind "*"). Raises TargetError when malformed."""
    namespace, _, rest = text.strip().rpartition(":")
    if namespace and rest == WHOLE_NAMESPACE:
        return ResourceId(WHOLE_NAMESPACE, "", namespace.strip("/"))
    kind, _, path = rest.partition("/")
    if kind not in BY_NAME or not path:
        kinds = ", ".join(BY_NAME)
        raise TargetError(
            f"invalid --target {text!r}: expected KIND/PATH or NAMESPACE:KIND/PATH or NAMESPACE:*, "
            f"with KIND one of {kinds}"
        )
    return ResourceId(kind, path.strip("/"), namespace.strip("/"))


def limit_to_targets(plan: Plan, targets: Sequence[ResourceId]) -> Plan:
    """The changes of `targets` and their dependencies, in the plan's order.

    Raises TargetError naming every target that is neither in the state file nor on the server
    for prune (the ids `plan` prints).
    """
    by_id = {c.id: c for c in plan.changes}
    targets = [t for target in targets for t in _expand(target, plan.changes)]
    unknown = [str(t) for t in targets if t not in by_id]
    if unknown:
        raise TargetError(
            f"unknown --target {', '.join(unknown)}: not in the state file nor pruned from the server "
            "(use the ids `plan` prints, e.g. policy/eso-policy, auth_role/kubernetes/eso-role)"
        )
    selected: set[ResourceId] = set()
    todo = [rid for target in targets for rid in (target, *_children(by_id[target], plan.changes))]
    while todo:  # what each needs, and what that needs (a namespace's parent namespaces)
        rid = todo.pop()
        if rid in selected or rid not in by_id:
            continue
        selected.add(rid)
        todo += _needs(by_id[rid])
    return Plan(tuple(c for c in plan.changes if c.id in selected))


def _expand(target: ResourceId, changes: Sequence[Change]) -> list[ResourceId]:
    """A whole-namespace target as the namespace and every object in it or in its descendants."""
    if target.kind != WHOLE_NAMESPACE:
        return [target]
    parent, _, name = target.namespace.rpartition("/")
    inside = [c.id for c in changes if f"{c.id.namespace}/".startswith(f"{target.namespace}/")]
    return [ResourceId("namespace", name, parent), *inside]


def _needs(change: Change) -> set[ResourceId]:
    """What must exist first: its parent, its namespace, a role's policies."""
    rid = change.id
    parent = _parent_of(rid)
    needs = {*_policies(change), *([parent] if parent is not None else [])}
    if rid.namespace:
        outer, _, name = rid.namespace.rpartition("/")
        needs.add(ResourceId("namespace", name, outer))
    if change.after is not None:  # objects it names by their server ids or facts (an alias's entity)
        named = {*change.after.needs, *(f.of for f in facts_in(change.after.values))}
        needs |= {n.within(rid.namespace) for n in named}
    return needs


def _children(change: Change, changes: Sequence[Change]) -> list[ResourceId]:
    """A targeted parent that is created or replaced brings its children: they start from nothing."""
    if change.action not in (Action.CREATE, Action.REPLACE):
        return []
    return [c.id for c in changes if _parent_of(c.id) == change.id]


def _parent_of(rid: ResourceId) -> ResourceId | None:
    parent = BY_NAME[rid.kind].parent_of(rid.local())
    return parent.within(rid.namespace) if parent is not None else None


def _policies(role: Change) -> set[ResourceId]:
    if role.id.kind != "auth_role":
        return set()
    resource = role.after or role.before
    names = resource.values.get("token_policies") or [] if resource else []
    return {ResourceId("policy", str(name), role.id.namespace) for name in names}

