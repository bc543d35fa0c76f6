"""Safety checks over a plan, pure: which actions destroy data, and whether apply may run them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from vault_state.errors import Location
from vault_state.plan.model import Action, Change, Plan, ResourceId

MOUNT_KINDS = frozenset({"secrets_engine", "auth_method"})


def destroy_refusals(plan: Plan, allow_destroy: bool, prune_at: Mapping[str, Location] | None = None) -> list[str]:
    """One message per action apply must refuse; empty when the plan may run.

    Disabling a secrets engine or auth method (delete or replace) destroys its data, and so does
    re-creating an approle role (new role_id, secret IDs gone): it needs --allow-destroy. A replace of
    an object marked prevent_destroy is refused even with it.
    """
    refusals = []
    for change in plan.actionable:
        # A delete has no place in the file: it comes from the `prune:` setting of its kind.
        location = change.location or (prune_at or {}).get(change.id.kind)
        where = f"{location}: " if location else ""
        if change.refusal:
            refusals.append(f"{where}{change.id}: {change.refusal}")
        elif change.action is Action.REPLACE and change.after and change.after.prevent_destroy:
            refusals.append(
                f"{where}{change.id} has prevent_destroy: true, but this plan replaces it ({change.reason})"
            )
        elif change.destroys_data and not allow_destroy:
            verb = _verb(change)
            refusals.append(f"{where}{change.id}: this plan {verb} it, destroying its data; pass --allow-destroy")
    return refusals


def _verb(change: Change) -> str:
    mount = change.id.kind in MOUNT_KINDS
    if change.action is Action.DELETE:
        return "disables" if mount else "deletes"
    return "replaces (disables and re-enables)" if mount else "replaces (deletes and re-creates)"


def describe(change: Change) -> str:
    return f"{change.action.symbol} {change.id}"


def mass_change_refusals(plan: Plan, live: Iterable[ResourceId], percent: int, minimum: int) -> list[str]:
    """One message per kind of which this plan deletes or replaces more than `percent` % of the live
    objects, where the server has at least `minimum` of them: a truncated file, a wrong `-f` or a
    bad merge, caught before any change (--allow-mass-change lets it run)."""
    counts = Counter(rid.kind for rid in live)
    gone = Counter(c.id.kind for c in plan.actionable if c.action in (Action.DELETE, Action.REPLACE))
    return [
        f"this plan deletes or replaces {gone[kind]} of the {counts[kind]} {kind} objects on the server "
        f"({100 * gone[kind] // counts[kind]}%, more than {percent}%); pass --allow-mass-change if that is meant"
        for kind in sorted(gone) if counts[kind] >= minimum and gone[kind] * 100 > percent * counts[kind]
    ]
