"""`vault-state required-policy`: the least-privilege ACL policy a token needs to plan and apply a file.

Derived, never tabulated: each kind says what its `read` asks for (`read_needs`, beside `read`);
its writes are its own `calls()` for a made-up create and update of every object the file declares,
and a delete wherever prune, a move or (--allow-destroy) a replace can delete; the tool's own paths
come from lock.py and inventory.py. Paths are relative to the namespace vault-state connects to.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from vault_state.desired import build_desired
from vault_state.inventory import inventory_needs
from vault_state.kinds.base import ANY, Need, ReadScope, listing, reading
from vault_state.kinds.facts import read_at
from vault_state.kinds.identity import IDENTITY_LISTS
from vault_state.kinds.registry import BY_NAME, KINDS, ROOT_ONLY
from vault_state.lock import lock_needs
from vault_state.plan.deferred import facts_in
from vault_state.plan.model import Action, Call, Change, FieldDiff, Resource, ResourceId
from vault_state.plan.moves import REMOUNTED, Move, for_reading, move_calls, moves_of
from vault_state.sensitive import Sensitive
from vault_state.spec.loader import LoadedState
from vault_state.spec.models import walk_sections
from vault_state.spec.sources import Resolver
from vault_state.spec.types import SourceValue, check_name
from vault_state.vault.gateway import waits_read
from vault_state.vault.login import login_needs
from vault_state.vault.permissions import CAPABILITIES_OF, needs_sudo
from vault_state.vault.reader import namespaces_read

DEFAULT_NAME = "vault-state"
CAPABILITIES = ("create", "read", "update", "delete", "list", "sudo")
"""The order capabilities are printed in."""


@dataclass(frozen=True)
class Block:
    """One `path "..." {}` block: its capabilities and why vault-state needs them."""

    path: str
    capabilities: tuple[str, ...]
    reasons: tuple[str, ...]


class _Unread(Resolver):
    """Value sources are never read: required-policy needs no secret, environment or cluster. A
    source stands for a value (empty), so the objects and calls are those of the real file."""

    def resolve(self, value: SourceValue, loc: Sequence[str | int], *, secret: bool = False) -> str | Sensitive:
        if isinstance(value, str):
            return super().resolve(value, loc, secret=secret)
        return Sensitive("") if secret or getattr(value, "sensitive", True) else ""


def required_blocks(
    loaded: LoadedState, allow_destroy: bool = False, declaring: str = "", login: bool = False, inside: bool = False
) -> list[Block]:
    """The policy's blocks, sorted by path: every request `plan` and `apply` of the file can send;
    `declaring`: a policy the file will also declare (the policy itself, kept beside the file);
    `login`: the runs log in (--login), and renew and revoke their own token; `inside`: the runs
    connect inside a namespace (--namespace), where the server-wide kinds are never read."""
    desired = build_desired(loaded, {}, _Unread(loaded.base_dir, {}, loaded.source))
    if declaring:
        rid = ResourceId("policy", declaring.lower())
        desired.setdefault(rid, Resource(rid, {"policy": ""}))
    moves = moves_of(loaded.state, loaded.source.locate)
    state = loaded.state
    read_in = namespaces_read(desired)  # as read_live
    fingerprinted = any(r.write_only for r in desired.values())
    holding = {rid.namespace for rid in desired}  # where an inventory part is kept: the objects' namespaces
    needs: list[Need] = [*lock_needs(), *inventory_needs(state.stack, fingerprinted, holding)]
    needs += login_needs() if login else []
    for namespace, sections, _ in walk_sections(state):
        if namespace not in read_in:
            continue
        local = {rid.local(): replace(r, id=rid.local()) for rid, r in desired.items() if rid.namespace == namespace}
        read = {rid.local(): r for rid, r in for_reading(desired, moves).items() if rid.namespace == namespace}
        scope = ReadScope(read, state.prune, dict(read))  # as if the server had every declared object
        kinds = [k for k in KINDS if not ((namespace or inside) and k.name in ROOT_ONLY)]
        found = [n for kind in kinds for n in kind.read_needs(scope)]
        if sections.identity.entities or sections.identity.groups:  # the references the plan checks
            found += [listing(path, "identity: names the file refers to must exist") for path in IDENTITY_LISTS]
        changes = [c for r in local.values() for c in _changes(r, scope, allow_destroy)]
        changes += [Change(r.id, Action.DELETE, r, None) for k in kinds for r in k.undeclared(scope)
                    if BY_NAME[r.id.kind].deletable(r)]
        changes += [c for m in moves if m.new.namespace == namespace for c in _move_changes(m, desired, read)]
        found += [n for change in changes for n in _call_needs(change)]
        needs += [replace(n, path=_join(namespace, n.path), why=f"{namespace}:{n.why}" if namespace else n.why)
                  for n in found]
    return _blocks(needs)


def _changes(resource: Resource, scope: ReadScope, allow_destroy: bool) -> list[Change]:
    """A create and an update of a declared object (a replace too, with --allow-destroy); for an
    entry that asks for an object's absence, its delete where prune covers the kind."""
    rid = resource.id
    if resource.absent:
        return [Change(rid, Action.DELETE, resource, None)] if getattr(scope.prune, BY_NAME[rid.kind].prune_key) else []
    before = replace(resource, values={k: _other(v) for k, v in resource.values.items()}, facts={"id": ANY})
    changed = [k for k, v in resource.values.items() if v is not None]  # a None is a section the object lacks
    diffs = tuple(FieldDiff(path, None, None) for path in (*changed, *resource.write_only))
    changes = [Change(rid, Action.CREATE, None, resource), Change(rid, Action.UPDATE, before, resource, diffs)]
    if allow_destroy:
        changes.append(Change(rid, Action.REPLACE, before, resource, diffs))
    return changes


def _other(value: Any) -> Any:
    """A value unlike `value`, of its shape: the made-up update changes every field."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, str):
        return value + "\0"
    if isinstance(value, list):
        return [*value, "\0"]
    if isinstance(value, dict):
        return {}
    return "\0"


def _move_changes(move: Move, desired: dict[ResourceId, Resource], read: dict[ResourceId, Resource]) -> list[Change]:
    """A mount moves with sys/remount; a policy or role is created at its new id (declared) and
    deleted at its old one."""
    new = desired.get(move.new)
    if new is None:
        return []
    old = read.get(move.old.local(), replace(new, id=move.old.local()))
    local = replace(new, id=move.new.local())
    if move.new.kind in REMOUNTED:
        return [Change(local.id, Action.MOVE, old, local, moved_from=move.old.local())]
    api_path = _moved_api_path(new.api_path, move) if new.api_path else ""
    return [Change(move.old.local(), Action.DELETE, replace(old, api_path=api_path), None, moved_to=local.id)]


def _moved_api_path(api_path: str, move: Move) -> str:
    """The old object's API path, from the new one's: the same path with the old id's parts
    (`auth/<mount>/role/<name>`: the mount and the name)."""
    new_mount, _, _new_name = move.new.path.rpartition("/")
    old_mount, _, old_name = move.old.path.rpartition("/")
    head, _, _ = api_path.rpartition("/")
    if new_mount:
        head = head.replace(f"auth/{new_mount}/", f"auth/{old_mount}/", 1)
    return f"{head}/{old_name}"


def _call_needs(change: Change) -> list[Need]:
    calls = move_calls(change) if change.action is Action.MOVE else BY_NAME[change.id.kind].calls(change)
    return [need for call in calls for need in _needs_of(call, change)]


def _needs_of(call: Call, change: Change) -> Iterable[Need]:
    why = f"{change.id}: {_verb(change, call)}"
    yield Need(_join(call.namespace, call.path.partition("?")[0]), CAPABILITIES_OF[call.method], why)
    for path in waits_read(call):
        what = "move" if call.until_moved else "delete"
        yield reading(_join(call.namespace, path), f"{change.id}: read until the {what} is done")
    for fact in facts_in(call.body or {}):
        at = read_at(fact)
        if at is not None:
            yield reading(_join(call.namespace, at), f"{change.id}: names {fact.of}'s {fact.name}")


def _verb(change: Change, call: Call) -> str:
    if change.action is Action.DELETE:
        return "deleted after its move" if change.moved_to else "deleted by prune"
    if change.action is Action.MOVE:
        return "moved" if call.until_moved else "updated after its move"
    return {Action.CREATE: "created", Action.UPDATE: "updated", Action.REPLACE: "replaced"}[change.action]


def _join(namespace: str, path: str) -> str:
    return f"{namespace}/{path}" if namespace else path


def _blocks(needs: Iterable[Need]) -> list[Block]:
    by_path: dict[str, tuple[set[str], dict[str, None]]] = {}
    for need in needs:
        caps, reasons = by_path.setdefault(need.path, (set(), {}))
        caps.update(need.capabilities)
        reasons.setdefault(need.why, None)
    for path, (caps, _) in by_path.items():
        if needs_sudo(path) or ("list" in caps and needs_sudo(f"{path}/")):  # a LIST is checked as `path/`
            caps.add("sudo")
    # A path a `+` block already allows with every capability it needs is left to that block (without
    # its own, Vault applies the `+` one): one block fewer, the same rights. Only when no other `+`
    # block matches it: Vault would apply the one it ranks first, and a LIST is matched as `path/`,
    # which `path/+` matches (an empty last segment) and outranks `+/path`.
    wild = [path for path in by_path if ANY in path.split("/")]
    for path in [p for p in by_path if p not in wild]:
        caps, reasons = by_path[path]
        covers = [w for w in wild if matches(w, path) or matches(w, f"{path}/")]
        cover = covers[0] if len(covers) == 1 and matches(covers[0], path) else None
        if cover is not None and caps <= by_path[cover][0]:
            by_path[cover][1].update(reasons)
            del by_path[path]
    return [Block(path, _ordered(caps), tuple(sorted(reasons))) for path, (caps, reasons) in sorted(by_path.items())]


def _ordered(caps: set[str]) -> tuple[str, ...]:
    return tuple(c for c in CAPABILITIES if c in caps) + tuple(sorted(caps - set(CAPABILITIES)))


def matches(pattern: str, path: str) -> bool:
    """Whether Vault's ACL path `pattern` covers `path`: `+` is one segment, a trailing `*` any rest."""
    glob = pattern.endswith("*")
    parts, given = pattern.rstrip("*").split("/"), path.split("/")
    if len(given) < len(parts) or (not glob and len(given) != len(parts)):
        return False
    last = len(parts) - 1
    return all(
        p in (ANY, g) or (glob and i == last and g.startswith(p))
        for i, (p, g) in enumerate(zip(parts, given, strict=False))
    )


def render(blocks: Sequence[Block], header: Sequence[str] = ()) -> str:
    """The policy as HCL: a comment per block saying why, blocks sorted by path."""
    lines = [f"# {line}" if line else "#" for line in header]
    for block in blocks:
        lines.append("")
        lines += [f"# {reason}" for reason in _shortened(block.reasons)]
        lines.append(f"path {json.dumps(block.path)} {{")
        lines.append(f"  capabilities = {json.dumps(list(block.capabilities))}".replace('","', '", "'))
        lines.append("}")
    return "\n".join(lines).lstrip("\n") + "\n"


def _shortened(reasons: Sequence[str], most: int = 6) -> list[str]:
    """The reasons of one object on one line (`policy/x: compared, created, updated`); at most
    `most` lines per block (a collection many objects share says so once)."""
    by_subject: dict[str, list[str]] = {}
    for reason in reasons:
        subject, _, what = reason.partition(": ")
        by_subject.setdefault(subject, []).append(what)
    lines = [f"{subject}: {', '.join(whats)}" for subject, whats in by_subject.items()]
    if len(lines) <= most:
        return lines
    return [*lines[: most - 1], f"... and {len(lines) - most + 1} more"]


def policy_text(
    loaded: LoadedState, files: Sequence[str], name: str, allow_destroy: bool, output: str = "hcl", login: str = "",
    namespace: str = "",
) -> str:
    """The whole output of `vault-state required-policy`: a header, then the blocks; as HCL, or
    (`output` "yaml") as a state file that declares the policy under `name`, to keep beside the
    file it is made from (the paths do not depend on policy text: made again, it is the same)."""
    command = " ".join(["vault-state required-policy", *(f"-f {f}" for f in files),
                        *([f"--namespace {namespace}"] if namespace else []),
                        *([f"--name {name}"] if name != DEFAULT_NAME else []),
                        *([f"--login {login}"] if login else []), *(["--allow-destroy"] if allow_destroy else []),
                        *(["--format yaml"] if output == "yaml" else [])])
    header = [
        f'Policy "{name}": what vault-state needs to plan and apply {", ".join(files)} (stack {loaded.state.stack}).',
        f"Made by `{command}`: run it again when the file changes.",
        "Write it in the namespace vault-state connects to (--namespace): the paths are relative to it.",
        "Each block says why: `compared` (plan reads it), `created` and `updated` (apply writes it),",
        "`deleted by prune`; `+` in a path stands for any one name.",
    ]
    if output == "hcl":
        return render(required_blocks(loaded, allow_destroy, login=bool(login), inside=bool(namespace)), header)
    check_name(name, "policy")
    blocks = required_blocks(loaded, allow_destroy, declaring=name, login=bool(login), inside=bool(namespace))
    body = render(blocks).splitlines()
    lines = [*(f"# {line}" for line in header), "version: 1", "policies:", f"  {name}: |"]
    return "\n".join([*lines, *(f"    {line}" if line else "" for line in body)]) + "\n"
