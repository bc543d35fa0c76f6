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


def parse_target(text: str) -> ResourceId:
    """`policy/eso-policy` -> ResourceId("policy", "eso-policy"). Raises TargetError when malformed."""
    kind, _, path = text.strip().partition("/")
    if kind not in BY_NAME or not path:
        kinds = ", ".join(BY_NAME)
        raise TargetError(f"invalid --target {text!r}: expected KIND/PATH, with KIND one of {kinds}")
    return ResourceId(kind, path.strip("/"))


def limit_to_targets(plan: Plan, targets: Sequence[ResourceId]) -> Plan:
    """The changes of `targets` and their dependencies, in the plan's order.

    Raises TargetError naming every target that is neither in the state file nor on the server
    for prune (the ids `plan` prints).
    """
    by_id = {c.id: c for c in plan.changes}
    unknown = [str(t) for t in targets if t not in by_id]
    if unknown:
        raise TargetError(
            f"unknown --target {', '.join(unknown)}: not in the state file nor pruned from the server "
            "(use the ids `plan` prints, e.g. policy/eso-policy, auth_role/kubernetes/eso-role)"
        )
    selected: set[ResourceId] = set()
    for target in targets:
        selected |= {target, *_needs(by_id[target], plan.changes)}
    return Plan(tuple(c for c in plan.changes if c.id in selected))


def _needs(change: Change, changes: Sequence[Change]) -> set[ResourceId]:
    rid = change.id
    parent = BY_NAME[rid.kind].parent_of(rid)
    needs = {*_policies(change), *([parent] if parent is not None else [])}
    if change.after is not None:  # objects it names by their server ids or facts (an alias's entity)
        needs |= {*change.after.needs, *(f.of for f in facts_in(change.after.values))}
    if change.action in (Action.CREATE, Action.REPLACE):  # its children start from nothing with it
        children = [c for c in changes if BY_NAME[c.id.kind].parent_of(c.id) == rid]
        needs |= {c.id for c in children} | {p for c in children for p in _policies(c)}
    return needs


def _policies(role: Change) -> set[ResourceId]:
    if role.id.kind != "auth_role":
        return set()
    resource = role.after or role.before
    names = resource.values.get("token_policies") or [] if resource else []
    return {ResourceId("policy", str(name)) for name in names}

