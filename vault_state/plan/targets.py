"""Targeting, pure: a plan limited to the objects named with `--target KIND/PATH` and what they need.

A role needs its auth method and the policies it names; every other kind needs only itself. An auth
method that is created or replaced brings its roles along (replacing a method wipes its roles).
"""

from __future__ import annotations

from collections.abc import Sequence

from vault_state.errors import VaultStateError
from vault_state.kinds.registry import BY_NAME
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
    if rid.kind == "auth_role":
        return {ResourceId("auth_method", _mount(rid)), *_policies(change)}
    if rid.kind == "auth_method" and change.action in (Action.CREATE, Action.REPLACE):
        roles = [c for c in changes if c.id.kind == "auth_role" and _mount(c.id) == rid.path]
        return {r.id for r in roles} | {p for r in roles for p in _policies(r)}
    return set()


def _policies(role: Change) -> set[ResourceId]:
    resource = role.after or role.before
    names = resource.values.get("token_policies") or [] if resource else []
    return {ResourceId("policy", str(name)) for name in names}


def _mount(role: ResourceId) -> str:
    return role.path.rsplit("/", 1)[0]
