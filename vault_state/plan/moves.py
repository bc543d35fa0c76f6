"""Renames (`moved:` entries), pure: a mount moves with sys/remount and keeps its data; a policy or
role is created at its new id and then deleted at its old one. Wraps the planner: the live
snapshot is re-keyed before the diff, and the plan gets the move actions after it."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from vault_state.errors import Diagnostic, InputError, Location
from vault_state.kinds.registry import BY_NAME
from vault_state.plan.model import Action, Call, Change, Plan, Resource, ResourceId
from vault_state.plan.ownership import Ownership
from vault_state.plan.planner import plan
from vault_state.plan.targets import parse_target
from vault_state.spec.models import Prune, StateFile

Snapshot = Mapping[ResourceId, Resource]

REMOUNTED = frozenset({"secrets_engine", "auth_method"})
"""Kinds sys/remount moves; the other movable kinds (policy, auth_role) are created, then deleted."""


@dataclass(frozen=True)
class Move:
    old: ResourceId
    new: ResourceId
    location: Location


def moves_of(state: StateFile, locate: Callable[[tuple[str | int, ...]], Location]) -> list[Move]:
    """The file's `moved:` entries as ids, each with the place of its entry. `locate` is the
    loaded source's `locate(loc)` (ids were checked when the file was validated)."""
    return [
        Move(parse_target(entry.from_), parse_target(entry.to), locate(("moved", index)))
        for index, entry in enumerate(state.moved)
    ]


def for_reading(desired: Snapshot, moves: Sequence[Move]) -> dict[ResourceId, Resource]:
    """The desired snapshot plus each move's old id declared as the new one is (and, for a moved
    mount, its declared children under the old mount), so the reader reads the old objects whole:
    the diff compares the live object at the old id with the desired one at the new id."""
    extra: dict[ResourceId, Resource] = {}
    for move in moves:
        if move.new not in desired:
            continue
        extra[move.old] = replace(desired[move.new], id=move.old)
        if move.old.kind in REMOUNTED:
            for rid, resource in desired.items():
                if _parent(rid) == move.new:
                    extra[_under(rid, move.new, move.old)] = replace(resource, id=_under(rid, move.new, move.old))
    return {**extra, **desired}


def plan_with_moves(
    desired: Snapshot, live: Snapshot, prune: Prune, moves: Sequence[Move], ownership: Ownership | None = None
) -> Plan:
    """The plan of `desired` against `live`, with each move as a move, never a destroy.

    Raises InputError (located at the `moved:` entry) when the new id is not in the file, or when
    both ids exist on the server (which one to keep is the user's call)."""
    live = dict(live)
    errors, remounts, pairs, absent = [], [], [], []
    for move in moves:
        if move.new not in desired:
            errors.append(Diagnostic(move.location, f"moved: {move.new} is not declared in the file; declare it there"))
        elif move.old in live and move.new in live:
            errors.append(Diagnostic(move.location, (
                f"moved: both {move.old} and {move.new} exist on the server; remove one of them by hand, "
                "or remove this entry to manage them apart")))
        elif move.old in live and not BY_NAME[move.old.kind].deletable(live[move.old]):
            errors.append(Diagnostic(move.location, f"moved: {move.old} is built in: it cannot be deleted, nor moved"))
        elif move.old not in live:
            absent += [move] if move.new not in live else []  # else already moved: nothing to do
        elif move.old.kind in REMOUNTED:
            remounts.append(move)
            _rekey(live, move, desired)
        else:
            pairs.append(move)
    if errors:
        raise InputError(errors)
    the_plan = plan(desired, live, prune, ownership)
    changes = {c.id: c for c in the_plan.changes}
    for move in remounts:
        changes[move.new] = _as_move(changes[move.new], move)
    for move in absent:
        changes[move.new] = replace(changes[move.new], warnings=(
            *changes[move.new].warnings, f"moved from {move.old}, which does not exist: created as new"))
    deletes = []
    for move in pairs:
        changes.pop(move.old, None)  # a prune delete of the old id becomes the move's delete
        created = changes[move.new]
        warnings = (*created.warnings, *_role_id_warning(move, desired))
        changes[move.new] = replace(created, moved_from=move.old, warnings=warnings)
        deletes.append(Change(move.old, Action.DELETE, replace(live[move.old], location=move.location), None,
                              moved_to=move.new))
    for move in (*remounts, *pairs):
        changes[move.new] = _claimed_move(changes[move.new], move, ownership or Ownership())
    kept = [c for c in the_plan.changes if c.id in changes]
    # Deleted last: what named the old policy or role (a role's token_policies) is updated first.
    return Plan((*(changes[c.id] for c in kept), *deletes))


def _claimed_move(change: Change, move: Move, owner: Ownership) -> Change:
    """A move of an object another stack's inventory holds takes it from that stack (a remount
    moves it, a create-then-delete deletes it): refused unless the file adopts it."""
    other = owner.others.get(str(move.old))
    if other is None:
        return change
    if {str(move.new), str(move.old)} & owner.adopt:
        plain = f"adopted: ownership moves to stack {owner.stack}"  # the planner's, not knowing the move
        notes = tuple(w for w in change.warnings if w != plain)
        return replace(change, warnings=(*notes, f"adopted: ownership moves from stack {other} to stack {owner.stack}"))
    refusal = (f"conflict: stack {other} owns {move.old}; add {move.new} to `adopt:` to move it to stack "
               f"{owner.stack}, or remove the `moved:` entry")
    return replace(change, refusal=change.refusal or refusal)


def _rekey(live: dict[ResourceId, Resource], move: Move, desired: Snapshot) -> None:
    """The live mount, and its children the file declares, under their new ids: they are the
    same objects after sys/remount. Undeclared children keep their old ids, so a prune deletes
    them (deletes run first) at the path they have before the move."""
    mount = live.pop(move.old)
    live[move.new] = mount
    for rid in [r for r in live if _parent(r) == move.old and _under(r, move.old, move.new) in desired]:
        child = live.pop(rid)
        new = _under(rid, move.old, move.new)
        live[new] = replace(child, id=new, api_path=desired[new].api_path or child.api_path)


def _as_move(change: Change, move: Move) -> Change:
    """The mount's change as a move; its field changes are written after sys/remount."""
    before = replace(change.before, id=move.old) if change.before is not None else None
    if change.action is Action.REPLACE:  # an enable-time field changes too: that is no move
        refusal = f"moved from {move.old}, but {change.reason}: move it first (keep the field), then change the field"
        return replace(change, action=Action.MOVE, before=before, moved_from=move.old, reason="", data_loss="",
                       refusal=refusal)
    return replace(change, action=Action.MOVE, before=before, moved_from=move.old)


def _role_id_warning(move: Move, desired: Snapshot) -> list[str]:
    """An approle role created at a new id gets a new role_id (unless the file sets one), and the
    secret IDs issued for the old role end with it."""
    method = desired.get(_parent(move.new) or move.new)
    if move.new.kind != "auth_role" or method is None or method.values.get("type") != "approle":
        return []
    if "role_id" in desired[move.new].values:
        return [f"secret IDs issued for {move.old} stop working when it is deleted: issue new ones"]
    return [f"{move.new} gets a new role_id (set role_id to keep the old one) and the secret IDs issued "
            f"for {move.old} stop working: give clients the new role_id and secret IDs"]


def move_calls(change: Change) -> list[Call]:
    """POST sys/remount (waited for), then the kind's update calls for the fields that change."""
    assert change.moved_from is not None and change.before is not None
    prefix = "auth/" if change.id.kind == "auth_method" else ""
    body = {"from": f"{prefix}{change.moved_from.path}", "to": f"{prefix}{change.id.path}"}
    calls = [Call("POST", "sys/remount", body, until_moved=True)]
    if change.diffs:
        update = replace(change, action=Action.UPDATE, before=replace(change.before, id=change.id))
        calls += BY_NAME[change.id.kind].calls(update)
    return calls


def remounts(moves: Sequence[Move], live: Snapshot) -> dict[ResourceId, ResourceId]:
    """Old id -> new id of the mounts the plan moves with sys/remount (the old one exists, the new
    one does not yet)."""
    return {m.old: m.new for m in moves if m.old.kind in REMOUNTED and m.old in live and m.new not in live}


def moved_id(rid: ResourceId, mounts: Mapping[ResourceId, ResourceId]) -> ResourceId | None:
    """The id `rid` has once the mounts in `mounts` (from -> to) moved: a moved mount's, or that of
    an object inside it (a role, a key); None when no move concerns it. With the mapping reversed,
    the id an object had before."""
    if rid in mounts:
        return mounts[rid]
    parent = _parent(rid) if rid.kind in BY_NAME else None
    if parent is not None and parent in mounts:
        return _under(rid, parent, mounts[parent])
    return None


def _parent(rid: ResourceId) -> ResourceId | None:
    parent = BY_NAME[rid.kind].parent_of(rid.local())
    return parent.within(rid.namespace) if parent is not None else None


def _under(rid: ResourceId, mount: ResourceId, other: ResourceId) -> ResourceId:
    """A child of `mount` (its path starts with the mount's) as the same child of `other`."""
    return ResourceId(rid.kind, other.path + rid.path[len(mount.path):], rid.namespace)
