"""The inventory: per stack, the ids it created or adopted and keyed fingerprints of the write-only
values it sent, kept at `vault-state/data/inventory/<stack>` beside the apply lock (docs/ownership.md).

Fingerprints are HMACs computed by the server's own transit engine (`vault-state-transit/`, key
`fingerprints`, created by the first apply that sends a write-only value): the key never leaves
Vault, so a reader of the inventory cannot test guesses of a password offline. One
`hmac/fingerprints` request with `batch_input` covers every value of a plan.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from vault_state import __version__
from vault_state.apply import ApplyReport
from vault_state.errors import VaultApiError, VaultStateError
from vault_state.kinds.base import ANY, Need, listing, reading
from vault_state.plan.model import Action, Call, Change, Plan, Resource, ResourceId
from vault_state.plan.ownership import Ownership, value_key
from vault_state.sensitive import Sensitive
from vault_state.spec.types import FINGERPRINT_MOUNT, LOCK_MOUNT
from vault_state.vault.gateway import Gateway, clean_error
from vault_state.vault.permissions import forbidden_or_api_error

INVENTORY_DATA = f"{LOCK_MOUNT}/data/inventory"
INVENTORY_LIST = f"{LOCK_MOUNT}/metadata/inventory"
if TYPE_CHECKING:
    from vault_state.spec.models import StateFile

FINGERPRINT_KEY = "fingerprints"
HMAC_PATH = f"{FINGERPRINT_MOUNT}/hmac/{FINGERPRINT_KEY}"


@dataclass(frozen=True)
class Inventory:
    """What one stack owns: ids (as the plan prints them) and `ID FIELD` -> fingerprint."""

    stack: str
    ids: frozenset[str] = frozenset()
    fingerprints: Mapping[str, str] = field(default_factory=dict)
    updated: str = ""
    tool_version: str = ""

    def document(self) -> dict[str, Any]:
        return {
            "stack": self.stack, "ids": sorted(self.ids), "fingerprints": dict(sorted(self.fingerprints.items())),
            "updated": self.updated, "tool_version": self.tool_version,
        }


def relies_on_ownership(state: StateFile) -> bool:
    """The file names its stack, prunes what it owns or adopts: it needs the inventories."""
    return "stack" in state.model_fields_set or bool(state.adopt) or "owned" in state.prune.model_dump().values()


def inventory_needs(state: StateFile, fingerprinted: bool) -> list[Need]:
    """What writing this stack's inventory, reading every stack's (when the file relies on
    ownership: else a plan goes without them) and (`fingerprinted`: the file has write-only values)
    fingerprinting them asks for (vault-state required-policy)."""
    stack = state.stack
    why = f"inventory of stack {stack}: what it owns, recorded after every apply"
    if not relies_on_ownership(state):
        return [Need(f"{INVENTORY_DATA}/{stack}", ("create", "update"), why), *_fingerprint_needs(fingerprinted)]
    return [
        listing(INVENTORY_LIST, "inventories: the stacks that have one"),
        reading(f"{INVENTORY_DATA}/{ANY}", "inventories of the other stacks: what they own is not ours"),
        Need(f"{INVENTORY_DATA}/{stack}", ("create", "read", "update"), why),
        *_fingerprint_needs(fingerprinted),
    ]


def _fingerprint_needs(fingerprinted: bool) -> list[Need]:
    if not fingerprinted:
        return []
    why = "fingerprints of write-only values"
    return [
        reading("sys/mounts", f"{why}: whether their transit mount exists"),
        Need(f"sys/mounts/{FINGERPRINT_MOUNT}", ("create", "update"), f"{why}: their transit mount, made once"),
        Need(f"{FINGERPRINT_MOUNT}/keys/{FINGERPRINT_KEY}", ("create", "read", "update"),
             f"{why}: the HMAC key, made once, never exported"),
        Need(HMAC_PATH, ("create", "update"), f"{why}: HMACs computed by the server"),
    ]


def read_inventories(gateway: Gateway, needed: bool = True) -> dict[str, Inventory]:
    """Every stack's inventory (none before the first apply: the mount does not exist yet). A token
    that may not read them plans without them when the file does not rely on ownership (`needed`
    false: no `stack:`, no owned prune, no `adopt:`); else that is an error naming the path."""
    try:
        # Before the first apply the mount does not exist: "no handler for route" means none, at once.
        names = [n for n in gateway.list(INVENTORY_LIST, patient=False) if not n.endswith("/")]
    except VaultApiError as exc:
        if exc.status != 403 or needed:
            raise
        return {}
    found = {}
    for name, payload in zip(names, gateway.read_many([f"{INVENTORY_DATA}/{n}" for n in names]), strict=True):
        data = ((payload or {}).get("data") or {}).get("data") or {}
        if data:
            found[name] = Inventory(
                name, frozenset(str(i) for i in data.get("ids") or []),
                {str(k): str(v) for k, v in (data.get("fingerprints") or {}).items()},
                str(data.get("updated", "")), str(data.get("tool_version", "")),
            )
    return found


def write_inventory(gateway: Gateway, inventory: Inventory) -> None:
    gateway.execute(Call("POST", f"{INVENTORY_DATA}/{inventory.stack}", {"data": inventory.document()}))


def write_only_values(desired: Mapping[ResourceId, Resource]) -> dict[str, Sensitive]:
    """Every write-only value the file sends, by `ID FIELD`."""
    return {
        value_key(str(rid), name): value
        for rid, resource in desired.items() if not resource.absent
        for name, value in resource.write_only.items()
    }


def fingerprints(gateway: Gateway, values: Mapping[str, Sensitive]) -> dict[str, str]:
    """The transit HMAC of each value, bound to its `ID FIELD` (one secret used by two objects gets
    two unrelated fingerprints); one request for all. {} when there is nothing to fingerprint."""
    keys = sorted(values)
    if not keys:
        return {}
    batch = [{"input": _encoded(key, values[key])} for key in keys]
    status, payload = gateway.request("POST", HMAC_PATH, {"batch_input": batch, "algorithm": "sha2-256"})
    if status >= 400:
        errors = [clean_error(str(e)) for e in payload.get("errors") or []]
        raise forbidden_or_api_error("POST", HMAC_PATH, status, errors)
    results = (payload.get("data") or {}).get("batch_results") or []
    if len(results) != len(keys) or any("hmac" not in r for r in results):
        raise VaultStateError(f"{HMAC_PATH}: the server did not fingerprint every write-only value")
    return {key: str(result["hmac"]) for key, result in zip(keys, results, strict=True)}


def _encoded(key: str, value: Sensitive) -> Sensitive:
    # transit takes base64 input; the value stays wrapped so it never reaches a log or an error.
    return Sensitive(base64.b64encode(f"{key}\0{value.reveal()}".encode()).decode())


def ownership_of(
    gateway: Gateway, stack: str, adopt: Iterable[str], desired: Mapping[ResourceId, Resource],
    inventories: Mapping[str, Inventory], track: bool = True, resend: bool = False,
) -> Ownership:
    """The planner's view of ownership: this stack's ids, the others', and which write-only values
    changed since they were sent (their fingerprints, computed by the server now)."""
    mine = inventories.get(stack, Inventory(stack))
    others = {rid: name for name, inv in sorted(inventories.items()) if name != stack for rid in inv.ids}
    values = write_only_values(desired) if track else {}
    tracked = {k: v for k, v in values.items() if k in mine.fingerprints}
    now = fingerprints(gateway, tracked) if tracked and not resend else {}
    rotated = set(values) if resend else {k for k in tracked if now[k] != mine.fingerprints[k]}
    untracked = frozenset(values) - frozenset(mine.fingerprints) - rotated
    return Ownership(stack, mine.ids, others, frozenset(adopt), frozenset(rotated), untracked)


def recorded(
    gateway: Gateway, ownership: Ownership, inventories: Mapping[str, Inventory], plan: Plan,
    applied: list[Change], track: bool,
) -> list[Inventory]:
    """The inventories after an apply (only those that change): this stack gains what it wrote and
    what it adopts, loses what it deleted, and records fingerprints of the write-only values it
    sent; a stack an object is adopted from loses it. `applied` may be a failed apply's part."""
    mine = inventories.get(ownership.stack, Inventory(ownership.stack))
    gone = {str(c.id) for c in applied if c.action is Action.DELETE}
    written = [c for c in applied if c.action is not Action.DELETE and c.after is not None]
    adopted = {str(c.id) for c in plan.changes if str(c.id) in ownership.adopt and c.action is not Action.DELETE}
    adopted -= {str(c.id) for c in plan.actionable} - {str(c.id) for c in written}  # not written: not yet taken
    ids = (mine.ids - gone) | {str(c.id) for c in written} | adopted
    sent = {value_key(str(c.id), n): v for c in written for n, v in c.after.write_only.items()} if track else {}  # type: ignore[union-attr]
    if sent:
        ensure_fingerprint_key(gateway)
    prints = {k: v for k, v in mine.fingerprints.items() if k.split(" ", 1)[0] not in gone}
    prints.update(fingerprints(gateway, sent))
    changed = []
    if ids != mine.ids or prints != dict(mine.fingerprints) or not mine.updated:
        changed.append(Inventory(ownership.stack, frozenset(ids), prints, _now(), __version__))
    for name, inv in sorted(inventories.items()):
        if name != ownership.stack and inv.ids & adopted:
            kept = {k: v for k, v in inv.fingerprints.items() if k.split(" ", 1)[0] not in adopted}
            changed.append(Inventory(name, inv.ids - adopted, kept, _now(), __version__))
    return changed


def adopted(inventories: Mapping[str, Inventory], stack: str, ids: Iterable[str]) -> list[Inventory]:
    """The inventories after `vault-state adopt`: the ids move to `stack` (their fingerprints stay
    behind: the values are not tracked until sent)."""
    taken = frozenset(ids)
    mine = inventories.get(stack, Inventory(stack))
    changed = [Inventory(stack, mine.ids | taken, mine.fingerprints, _now(), __version__)]
    for name, inv in sorted(inventories.items()):
        if name != stack and inv.ids & taken:
            kept = {k: v for k, v in inv.fingerprints.items() if k.rsplit("#", 1)[0] not in taken}
            changed.append(Inventory(name, inv.ids - taken, kept, _now(), __version__))
    return changed


def record_apply(
    gateway: Gateway, ownership: Ownership, inventories: Mapping[str, Inventory], plan: Plan,
    report: ApplyReport, track: bool,
) -> None:
    """Write the inventories after an apply, even a failed one: they cover what did get written."""
    for inventory in recorded(gateway, ownership, inventories, plan, report.applied, track):
        write_inventory(gateway, inventory)


def ensure_fingerprint_key(gateway: Gateway) -> None:
    """The transit mount and its non-exportable key, created once (an existing key is left as it is)."""
    mounts = gateway.read("sys/mounts") or {}
    if f"{FINGERPRINT_MOUNT}/" not in (mounts.get("data") or mounts):
        try:
            gateway.execute(Call("POST", f"sys/mounts/{FINGERPRINT_MOUNT}", {
                "type": "transit", "description": "vault-state fingerprints of write-only values (docs/ownership.md)",
            }))
        except VaultApiError as exc:  # another apply created it first
            if not any("path is already in use" in m for m in exc.messages):
                raise
    if gateway.read(f"{FINGERPRINT_MOUNT}/keys/{FINGERPRINT_KEY}") is None:
        gateway.execute(Call("POST", f"{FINGERPRINT_MOUNT}/keys/{FINGERPRINT_KEY}", {"type": "aes256-gcm96"}))


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def owned_summary(ownership: Ownership, plan: Plan) -> dict[str, Any]:
    """What the plan says about the stack: its name, its inventory's size, the owned ids it deletes."""
    deletes = [str(c.id) for c in plan.actionable if c.action is Action.DELETE and str(c.id) in ownership.owned]
    return {"name": ownership.stack, "inventory_ids": len(ownership.owned), "deletes_owned": deletes}
