"""The inventory: per stack, the ids it created or adopted and keyed fingerprints of the write-only
values it sent, kept at `vault-state/data/inventory/<stack>` beside the apply lock (docs/ownership.md).

Fingerprints are HMACs computed by the server's own transit engine (`vault-state-transit/`, key
`fingerprints`, created by the first apply that sends a write-only value): the key never leaves
Vault, so a reader of the inventory cannot test guesses of a password offline. One
`hmac/fingerprints` request with `batch_input` covers up to HMAC_BATCH values of a plan.

OpenBao refuses a JSON request body holding 1,000 strings or more ("refused JSON input due to high
complexity: exceeded maximum number of strings"; keys count), so an inventory part keeps its ids and
its fingerprints as one string each (FORMAT 2: ids one per line, fingerprints `ID#FIELD HMAC` one
per line), and HMAC batches are split. Parts written as a list and a map (format 1) are still read.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from vault_state import __version__
from vault_state.apply import ApplyReport
from vault_state.errors import VaultApiError, VaultStateError
from vault_state.kinds.base import ANY, Need, listing, reading
from vault_state.kinds.registry import BY_NAME
from vault_state.plan.model import Action, Call, Change, Plan, Resource, ResourceId
from vault_state.plan.moves import moved_id
from vault_state.plan.ownership import Ownership, value_key
from vault_state.plan.targets import TargetError, parse_target
from vault_state.sensitive import Sensitive
from vault_state.spec.models import Prune, StateFile
from vault_state.spec.types import FINGERPRINT_MOUNT, LOCK_MOUNT
from vault_state.vault.gateway import Gateway, clean_error
from vault_state.vault.permissions import forbidden_or_api_error

INVENTORY_DATA = f"{LOCK_MOUNT}/data/inventory"
INVENTORY_LIST = f"{LOCK_MOUNT}/metadata/inventory"

FINGERPRINT_KEY = "fingerprints"
HMAC_PATH = f"{FINGERPRINT_MOUNT}/hmac/{FINGERPRINT_KEY}"
FORMAT = 2
HMAC_BATCH = 400
"""Values per transit request: each is an object of one key and one value, 2 strings (limit above)."""


@dataclass(frozen=True)
class Inventory:
    """What one stack owns: ids (as the plan prints them, relative to the namespace the tool connects
    to) and `ID#FIELD` -> fingerprint. `parts`: the namespaces (relative to the connection's) holding
    a part of it on the server: each id is kept in the namespace of its object (below)."""

    stack: str
    ids: frozenset[str] = frozenset()
    fingerprints: Mapping[str, str] = field(default_factory=dict)
    updated: str = ""
    tool_version: str = ""
    parts: frozenset[str] = frozenset()
    mixed: bool = False
    """A part names objects of other namespaces (`team-a:policy/x`), as earlier versions kept every
    id in the connection's namespace: the next write rewrites every part."""

    def documents(self) -> dict[str, dict[str, Any]]:
        """The part kept in each namespace (its objects' ids and fingerprints, relative to it): one
        for the connection's namespace, one where a part was, one for each namespace of an id."""
        ids: dict[str, list[str]] = {namespace: [] for namespace in self.parts | {""}}
        prints: dict[str, dict[str, str]] = {namespace: {} for namespace in ids}
        for rid in self.ids:
            namespace, local = _split(rid)
            ids.setdefault(namespace, []).append(local)
        for key, value in self.fingerprints.items():
            rid, _, name = key.rpartition("#")
            namespace, local = _split(rid)
            prints.setdefault(namespace, {})[value_key(local, name)] = value
        return {
            namespace: {
                "stack": self.stack, "format": FORMAT, "ids": "\n".join(sorted(ids.get(namespace, []))),
                "fingerprints": "\n".join(f"{k} {v}" for k, v in sorted(prints.get(namespace, {}).items())),
                "updated": self.updated, "tool_version": self.tool_version,
            }
            for namespace in sorted(ids.keys() | prints.keys())
        }


def stored_part(data: Mapping[str, Any]) -> tuple[list[str], dict[str, str]]:
    """The ids and `ID#FIELD` -> fingerprint of one stored inventory part, in either format."""
    ids, prints = data.get("ids") or [], data.get("fingerprints") or {}
    if isinstance(ids, str):
        ids = ids.splitlines()
    if isinstance(prints, str):
        prints = dict(line.rsplit(" ", 1) for line in prints.splitlines())
    return [str(i) for i in ids], {str(k): str(v) for k, v in prints.items()}


def relies_on_ownership(state: StateFile, desired: Mapping[ResourceId, Resource]) -> bool:
    """The file names its stack, prunes what it owns or adopts: it needs the inventories."""
    named = "stack" in state.model_fields_set or bool(state.adopt) or any(r.adopt for r in desired.values())
    return named or "owned" in state.prune.model_dump().values()


def inventory_needs(stack: str, fingerprinted: bool, namespaces: Iterable[str] = ()) -> list[Need]:
    """What writing this stack's inventory, reading every stack's and (`fingerprinted`: the file
    has write-only values) fingerprinting them asks for (vault-state required-policy). Each of
    `namespaces` (relative to the connection's) keeps the part of its own objects, on a KV mount the
    first write there makes. The inventories are read even when the file does not rely on ownership
    (its plan would run without them): apply writes an inventory only where it could read it, never
    over what it did not see, so a token without them leaves this stack's objects unrecorded."""
    needs = _fingerprint_needs(fingerprinted)
    for namespace in sorted({"", *namespaces}):
        at = f"{namespace}/" if namespace else ""
        why = f"inventory of stack {stack}: what it owns, recorded after every apply"
        needs.append(Need(f"{at}{INVENTORY_DATA}/{stack}", ("create", "read", "update"), why))
        others = "inventories of the other stacks: what they own is not ours"
        needs += [listing(f"{at}{INVENTORY_LIST}", "inventories: the stacks that have one"),
                  reading(f"{at}{INVENTORY_DATA}/{ANY}", others)]
        if namespace:
            needs += [reading(f"{at}sys/mounts", "inventories: whether their mount exists in the namespace"),
                      Need(f"{at}sys/mounts/{LOCK_MOUNT}", ("create", "update"), "inventories: their KV v2 mount")]
    return needs


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


def _split(rid: str) -> tuple[str, str]:
    """`team-a/x:policy/p` -> ("team-a/x", "policy/p"); an id in the connection's namespace -> ("", id)."""
    namespace, _, local = rid.rpartition(":")
    return namespace, local


def _joined(namespace: str, local: str) -> str:
    """An id kept in `namespace` as the plan prints it (an id with a namespace of its own, written by
    a version that kept every id in the connection's namespace, keeps it)."""
    inner, plain = _split(local)
    where = "/".join(p for p in (namespace, inner) if p)
    return f"{where}:{plain}" if where else plain


@dataclass(frozen=True)
class Inventories:
    """Every stack's inventory the token could read; `unreadable`: namespaces (relative to the
    connection's; "" for it) whose inventories it may not list."""

    stacks: dict[str, Inventory]
    unreadable: tuple[str, ...] = ()


def read_inventories(gateway: Gateway, namespaces: Iterable[str] = ("",), needed: bool = True) -> Inventories:
    """Every stack's inventory, gathered from the namespaces given (relative to the connection's):
    each namespace keeps the ids of its own objects, so a stack connected at the root and one
    connected inside a namespace see each other's objects there (docs/ownership.md#namespaces).
    None before the first apply: the mount does not exist yet. A token that may not list them
    plans without them when the file does not rely on ownership (`needed` false: no `stack:`, no
    owned prune, no `adopt:`); else that is an error naming the path."""
    where = sorted(set(namespaces) | {""})
    listed = gateway.workers.map(lambda ns: _listed(gateway, ns, needed), where)
    unreadable = tuple(ns for ns, names in zip(where, listed, strict=True) if names is None)
    entries = [(ns, name) for ns, names in zip(where, listed, strict=True) for name in names or []]
    payloads = gateway.workers.map(lambda e: gateway.read(f"{INVENTORY_DATA}/{e[1]}", e[0]), entries)
    found: dict[str, Inventory] = {}
    for (namespace, name), payload in zip(entries, payloads, strict=True):
        data = ((payload or {}).get("data") or {}).get("data") or {}
        if not data:
            continue
        stored, stored_prints = stored_part(data)
        ids = {_joined(namespace, i) for i in stored}
        prints = {}
        for key, value in stored_prints.items():
            rid, _, field_name = key.rpartition("#")
            prints[value_key(_joined(namespace, rid), field_name)] = value
        before = found.get(name, Inventory(name))
        updated, version = str(data.get("updated", "")), str(data.get("tool_version", ""))
        if updated < before.updated:  # the part written last says when, and by which version
            updated, version = before.updated, before.tool_version
        mixed = before.mixed or any(":" in i for i in stored)
        found[name] = Inventory(
            name, before.ids | ids, {**before.fingerprints, **prints}, updated, version, before.parts | {namespace},
            mixed,
        )
    return Inventories(found, unreadable)


def _listed(gateway: Gateway, namespace: str, needed: bool) -> list[str] | None:
    """The stacks with a part in `namespace`; None when the token may not list them."""
    try:
        # Before the first apply the mount does not exist: "no handler for route" means none, at once.
        return [n for n in gateway.list(INVENTORY_LIST, namespace, patient=False) if not n.endswith("/")]
    except VaultApiError as exc:
        if exc.status != 403 or needed:
            if namespace:
                raise VaultStateError(f"{exc} (in namespace {namespace})") from None
            raise
        return None


def all_namespaces(gateway: Gateway, under: str = "") -> list[str]:
    """"" and every namespace inside `under` (the connection's namespace by default), relative to
    it. A server without namespaces (or a token that may not list them) has "" only."""
    found, queue = [""], [""]
    while queue:
        parent = queue.pop()
        try:
            children = gateway.list("sys/namespaces", "/".join(p for p in (under, parent) if p))
        except VaultApiError:
            continue
        for child in children:
            path = "/".join(p for p in (parent, child.strip("/")) if p)
            found.append(path)
            queue.append(path)
    return sorted(found)


def write_inventory(
    gateway: Gateway, inventory: Inventory, before: Inventory | None = None, unread: frozenset[str] = frozenset()
) -> set[str]:
    """Write each part of the inventory in its namespace (the tool's KV mount there is created
    first when missing); with `before`, only the parts that changed. Parts in `unread` namespaces
    are not written: the namespaces of those left out."""
    old = before.documents() if before is not None and not before.mixed else {}
    left: set[str] = set()
    for namespace, document in inventory.documents().items():
        if namespace in old and _same(document, old[namespace]):
            continue
        if before is not None and namespace not in old and not document["ids"] and namespace:
            continue  # nothing to keep there, and nothing was
        if namespace in unread:
            left.add(namespace)
            continue
        if namespace:
            ensure_kv_mount(gateway, namespace)
        gateway.execute(Call("POST", f"{INVENTORY_DATA}/{inventory.stack}", {"data": document}, namespace=namespace))
    return left


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(a["ids"] == b["ids"] and a["fingerprints"] == b["fingerprints"])


def ensure_kv_mount(gateway: Gateway, namespace: str) -> None:
    """The tool's KV v2 mount `vault-state/` in `namespace` (the lock creates the connection's)."""
    mounts = gateway.read("sys/mounts", namespace) or {}
    if f"{LOCK_MOUNT}/" in (mounts.get("data") or mounts):
        return
    try:
        gateway.execute(Call("POST", f"sys/mounts/{LOCK_MOUNT}", {
            "type": "kv", "options": {"version": "2"},
            "description": "vault-state inventories of the objects in this namespace (docs/ownership.md)",
        }, namespace=namespace))
    except VaultApiError as exc:  # another apply created it first
        if not any("path is already in use" in m for m in exc.messages):
            raise


def write_only_values(desired: Mapping[ResourceId, Resource]) -> dict[str, Sensitive]:
    """Every write-only value the file sends, by `ID FIELD`."""
    return {
        value_key(str(rid), name): value
        for rid, resource in desired.items() if not resource.absent
        for name, value in resource.write_only.items()
    }


def fingerprints(gateway: Gateway, values: Mapping[str, Sensitive]) -> dict[str, str]:
    """The transit HMAC of each value, bound to its `ID FIELD` (one secret used by two objects gets
    two unrelated fingerprints); one request per HMAC_BATCH values. {} when there is nothing to fingerprint."""
    found: dict[str, str] = {}
    keys = sorted(values)
    for chunk in (keys[at:at + HMAC_BATCH] for at in range(0, len(keys), HMAC_BATCH)):
        batch = [{"input": _encoded(key, values[key])} for key in chunk]
        status, payload = gateway.request("POST", HMAC_PATH, {"batch_input": batch, "algorithm": "sha2-256"})
        if status >= 400:
            errors = [clean_error(str(e)) for e in payload.get("errors") or []]
            raise forbidden_or_api_error("POST", HMAC_PATH, status, errors)
        results = (payload.get("data") or {}).get("batch_results") or []
        if len(results) != len(chunk) or any("hmac" not in r for r in results):
            raise VaultStateError(f"{HMAC_PATH}: the server did not fingerprint every write-only value")
        found.update((key, str(result["hmac"])) for key, result in zip(chunk, results, strict=True))
    return found


def _encoded(key: str, value: Sensitive) -> Sensitive:
    # transit takes base64 input; the value stays wrapped so it never reaches a log or an error.
    return Sensitive(base64.b64encode(f"{key}\0{value.reveal()}".encode()).decode())


def ownership_of(
    gateway: Gateway, stack: str, adopt: Iterable[str], desired: Mapping[ResourceId, Resource],
    inventories: Mapping[str, Inventory], track: bool = True, resend: bool = False,
    previous: Mapping[str, str] | None = None,
) -> Ownership:
    """The planner's view of ownership: this stack's ids, the others', and which write-only values
    changed since they were sent (their fingerprints, computed by the server now). `adopt`: the
    file's `adopt:` list; objects with `adopt: true` are added. `previous`: new id -> old id of the
    objects a `moved:` entry remounts: their values are compared with the old id's fingerprints."""
    mine = inventories.get(stack, Inventory(stack))
    others = {rid: name for name, inv in sorted(inventories.items()) if name != stack for rid in inv.ids}
    adopted = frozenset(adopt) | {str(rid) for rid, resource in desired.items() if resource.adopt}
    values = write_only_values(desired) if track else {}
    recorded_as = {key: _recorded_key(key, mine, previous or {}) for key in values}
    tracked = {recorded_as[k]: v for k, v in values.items() if recorded_as[k] in mine.fingerprints}
    now = fingerprints(gateway, tracked) if tracked and not resend else {}
    rotated = set(values) if resend else {
        k for k in values if recorded_as[k] in tracked and now[recorded_as[k]] != mine.fingerprints[recorded_as[k]]
    }
    untracked = frozenset(k for k in values if recorded_as[k] not in tracked) - rotated
    return Ownership(stack, mine.ids, others, adopted, frozenset(rotated), untracked)


def _recorded_key(key: str, mine: Inventory, previous: Mapping[str, str]) -> str:
    """Where the fingerprint of the value `key` names is recorded: under its own id, or (an object
    a `moved:` entry remounts, not yet recorded under its new id) under its old one."""
    rid, _, name = key.rpartition("#")
    if key in mine.fingerprints or rid not in previous:
        return key
    return value_key(previous[rid], name)


def recorded(
    gateway: Gateway, ownership: Ownership, inventories: Mapping[str, Inventory], plan: Plan,
    applied: list[Change], track: bool,
) -> list[tuple[Inventory, Inventory | None]]:
    """The inventories after an apply (only those that change, each with what it was): this stack
    gains what it wrote and what it adopts, loses what it deleted, and records fingerprints of the
    write-only values it sent; a mount a `moved:` entry remounted keeps its place in the inventory
    (with its children and their fingerprints) under its new id; a stack an object is adopted from
    loses it. `applied` may be a failed apply's part."""
    mine = inventories.get(ownership.stack, Inventory(ownership.stack))
    remounted = {c.moved_from: c.id for c in applied if c.action is Action.MOVE and c.moved_from is not None}
    everyone = {rid for inv in inventories.values() for rid in inv.ids}
    renamed = {rid: str(new) for rid in everyone if (new := _moved(rid, remounted)) is not None}
    gone = _with_contents({str(c.id) for c in applied if c.action is Action.DELETE}, everyone)
    written = [c for c in applied if c.action is not Action.DELETE and c.after is not None]
    adopted = {str(c.id) for c in plan.changes if str(c.id) in ownership.adopt and c.action is not Action.DELETE}
    adopted -= {str(c.id) for c in plan.actionable} - {str(c.id) for c in written}  # not written: not yet taken
    # What a remount moved keeps its owner under its new id (the mount itself is this stack's: the
    # plan refuses to move another stack's mount unless the file adopts it).
    ids = {renamed.get(rid, rid) for rid in mine.ids - gone} | {str(c.id) for c in written} | adopted
    # A remount without field changes sends no value: the values stay what they were.
    sent_by = [c for c in written if c.action is not Action.MOVE or c.diffs]
    sent = {value_key(str(c.id), n): v for c in sent_by for n, v in c.after.write_only.items()} if track else {}  # type: ignore[union-attr]
    carried = _carried(mine, plan, renamed, ownership, sent) if track else {}
    if sent or carried:
        ensure_fingerprint_key(gateway)
    prints = {}
    for key, value in mine.fingerprints.items():
        rid, _, name = key.rpartition("#")
        if rid not in gone and rid not in renamed:
            prints[key] = value
    prints.update(fingerprints(gateway, {**carried, **sent}))
    changed: list[tuple[Inventory, Inventory | None]] = []
    if ids != mine.ids or prints != dict(mine.fingerprints) or not mine.updated:
        after = Inventory(ownership.stack, frozenset(ids), prints, _now(), __version__, mine.parts)
        changed.append((after, mine if mine.updated else None))
    taken = adopted | {str(c.id) for c in written}  # another stack's object is written only once adopted
    for name, inv in sorted(inventories.items()):
        if name == ownership.stack or not inv.ids & (gone | renamed.keys() | taken):
            continue  # untouched by this apply: not written (its stack's token may be the only one that may)
        theirs = {renamed.get(rid, rid) for rid in inv.ids - gone} - taken
        # Their fingerprints of what moved bind the old id: the values are "not tracked" until they send them.
        kept = {k: v for k, v in inv.fingerprints.items() if k.rpartition("#")[0] in theirs}
        if theirs != inv.ids or kept != dict(inv.fingerprints):
            changed.append((Inventory(name, frozenset(theirs), kept, _now(), __version__, inv.parts), inv))
    return changed


def _with_contents(deleted: set[str], ids: Iterable[str]) -> set[str]:
    """The deleted ids and the recorded ids of what went with them: a mount's roles and keys, and
    everything in a deleted namespace (Vault deletes them with it; the plan shows no delete of its own)."""
    if not deleted:
        return set()
    parsed = {rid: _parsed(rid) for rid in ids}
    namespaces = [_joined_path(p) for r in deleted if (p := _parsed(r)) is not None and p.kind == "namespace"]
    gone = set(deleted)
    for rid, p in parsed.items():
        if p is None or p.kind not in BY_NAME:
            continue
        parent = BY_NAME[p.kind].parent_of(p.local())
        inside = any(p.namespace == ns or p.namespace.startswith(f"{ns}/") for ns in namespaces)
        if inside or (parent is not None and str(parent.within(p.namespace)) in deleted):
            gone.add(rid)
    return gone


def _joined_path(namespace: ResourceId) -> str:
    """A namespace object's full path (relative to the connection's)."""
    return "/".join(p for p in (namespace.namespace, namespace.path) if p)


def _parsed(rid: str) -> ResourceId | None:
    try:
        return parse_target(rid)
    except TargetError:
        return None


def _moved(rid: str, remounted: Mapping[ResourceId, ResourceId]) -> ResourceId | None:
    """The id an inventory id has after the remounts (a mount, or an object inside one), or None."""
    parsed = _parsed(rid) if remounted else None
    return moved_id(parsed, remounted) if parsed is not None else None


def _carried(
    mine: Inventory, plan: Plan, renamed: Mapping[str, str], ownership: Ownership, sent: Mapping[str, Sensitive]
) -> dict[str, Sensitive]:
    """Write-only values of remounted objects whose old fingerprint still held (not rotated): not
    sent again, fingerprinted under the new id (the MAC binds the id)."""
    after: dict[str, Resource] = {str(c.id): c.after for c in plan.changes if c.after is not None}
    carried = {}
    for key in mine.fingerprints:
        rid, _, name = key.rpartition("#")
        new = renamed.get(rid)
        if new is None or new not in after or name not in after[new].write_only:
            continue
        new_key = value_key(new, name)
        if new_key not in sent and new_key not in ownership.rotated:
            carried[new_key] = after[new].write_only[name]
    return carried


def adopted(
    inventories: Mapping[str, Inventory], stack: str, ids: Iterable[str]
) -> list[tuple[Inventory, Inventory | None]]:
    """The inventories after `vault-state adopt`: the ids move to `stack` (their fingerprints stay
    behind: the values are not tracked until sent)."""
    taken = frozenset(ids)
    mine = inventories.get(stack, Inventory(stack))
    changed = [(Inventory(stack, mine.ids | taken, mine.fingerprints, _now(), __version__, mine.parts),
                mine if mine.updated else None)]
    for name, inv in sorted(inventories.items()):
        if name != stack and inv.ids & taken:
            kept = {k: v for k, v in inv.fingerprints.items() if k.rpartition("#")[0] not in taken}
            changed.append((Inventory(name, inv.ids - taken, kept, _now(), __version__, inv.parts), inv))
    return changed


@dataclass
class Owners:
    """The inventories read for a plan, and the planner's view of ownership made from them.
    `track`: fingerprints of write-only values are compared and recorded (not --no-fingerprints)."""

    ownership: Ownership
    read: Inventories
    live: frozenset[ResourceId]
    track: bool = True

    @property
    def inventories(self) -> dict[str, Inventory]:
        return self.read.stacks

    def summary(self, plan: Plan) -> dict[str, Any]:
        return owned_summary(self.ownership, plan, self.read, self.track)

    def record(self, gateway: Gateway, plan: Plan, report: ApplyReport) -> list[str]:
        """Write the inventories after an apply, even a failed one: they cover what did get written.
        Never in a namespace whose inventories the token could not list (a file that does not rely
        on ownership plans without them): what is there was not read, and a write would replace it.
        Returns those namespaces ("" the connection's) where something was left unrecorded."""
        skipped: set[str] = set()
        unread = frozenset(self.read.unreadable)
        for inventory, before in recorded(gateway, self.ownership, self.inventories, plan, report.applied, self.track):
            skipped |= write_inventory(gateway, inventory, before, unread=unread)
        return sorted(skipped)


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


def owned_summary(
    ownership: Ownership, plan: Plan, inventories: Inventories | None = None, track: bool = True
) -> dict[str, Any]:
    """What the plan says about the stack: its name, its inventory's size, the owned ids it deletes,
    whether it has an inventory yet (or the token could not read them), and whether fingerprints
    of write-only values are compared (not with --no-fingerprints)."""
    deletes = [str(c.id) for c in plan.actionable if c.action is Action.DELETE and str(c.id) in ownership.owned]
    unreadable = list(inventories.unreadable) if inventories is not None else []
    present = inventories is not None and ownership.stack in inventories.stacks
    state = "unreadable" if "" in unreadable else "present" if present else "none"
    return {
        "name": ownership.stack, "inventory_ids": len(ownership.owned), "deletes_owned": deletes,
        "inventory": state, "unreadable_namespaces": unreadable, "fingerprints": track,
    }



def guard_owned_namespace_deletes(gateway: Gateway, plan: Plan, ownership: Ownership, prune: Prune) -> Plan:
    """`prune: owned` deletes a namespace this stack owns only when no other stack owns anything in
    it: Vault deletes a namespace with everything inside, and owned prune never deletes another
    stack's objects. The inventories inside (and in the namespaces below) are read for that."""
    if prune.namespaces != "owned":
        return plan
    doomed = [c for c in plan.actionable if c.action is Action.DELETE and c.id.kind == "namespace"]
    if not doomed:
        return plan
    changes = {c.id: c for c in plan.changes}
    for change in doomed:
        path = _joined_path(change.id)
        below = [path] + [f"{path}/{ns}" for ns in all_namespaces(gateway, path) if ns]
        found = read_inventories(gateway, below, needed=False).stacks
        held = sorted(f"{rid} (stack {name})" for name, inv in found.items() if name != ownership.stack
                      for rid in inv.ids if _parsed(rid) is not None)
        if held:
            shown = ", ".join(held[:5]) + (f" and {len(held) - 5} more" if len(held) > 5 else "")
            refusal = (f"prune: owned would delete, with the namespace, objects other stacks own: {shown}; "
                       "they leave it first (or adopt them), or use prune: {namespaces: true}")
            changes[change.id] = replace(change, refusal=change.refusal or refusal)
    return Plan(tuple(changes[c.id] for c in plan.changes))
