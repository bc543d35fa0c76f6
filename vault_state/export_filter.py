"""Which live objects `export --include/--exclude KIND[/GLOB]` keeps, pure.

A pattern is a kind (every object of it) or `KIND/GLOB`, matched with fnmatch on the whole id
(`auth_role/kubernetes/*`). Roles are written under their auth method in a state file, so a kept
role keeps its auth method, and a role whose auth method is excluded is left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fnmatch import fnmatchcase

from vault_state.errors import VaultStateError
from vault_state.kinds.registry import BY_NAME
from vault_state.plan.model import Resource, ResourceId


class PatternError(VaultStateError):
    """An --include or --exclude that names no kind."""


def parse_pattern(text: str, flag: str) -> str:
    """`policy` -> `policy/*`; `auth_role/k8s/*` as is. Raises PatternError for an unknown kind."""
    kind, slash, glob = text.strip().partition("/")
    if kind not in BY_NAME or (slash and not glob):
        kinds = ", ".join(BY_NAME)
        raise PatternError(f"invalid {flag} {text!r}: expected KIND or KIND/GLOB, with KIND one of {kinds}")
    return f"{kind}/{glob or '*'}"


def select(
    live: Mapping[ResourceId, Resource], include: Sequence[str], exclude: Sequence[str]
) -> dict[ResourceId, Resource]:
    """The objects of `live` matching an `include` pattern (all when none is given) and no `exclude` one."""
    def matches(rid: ResourceId, patterns: Sequence[str]) -> bool:
        return any(fnmatchcase(str(rid), p) for p in patterns)

    excluded = {rid for rid in live if matches(rid, exclude)}
    kept = {rid for rid in live if (not include or matches(rid, include)) and rid not in excluded}
    for rid in list(kept):
        if rid.kind == "auth_role":
            method = ResourceId("auth_method", rid.path.rsplit("/", 1)[0])
            if method in excluded or method not in live:
                kept.discard(rid)
            else:
                kept.add(method)
    return {rid: live[rid] for rid in sorted(kept)}
