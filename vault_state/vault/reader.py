"""Read the live server into a snapshot, kind by kind, reading only what the file and prune need.

The root of the file is read first; then each namespace the file declares that exists on the
server, parents before children, with the kinds' reads sent in that namespace. Ids of objects in
a namespace carry its path (`team-a:policy/x`); a namespace that does not exist yet is not read.
"""

from __future__ import annotations

from dataclasses import replace

from vault_state.kinds.base import ReadScope, VaultReader
from vault_state.kinds.registry import KINDS
from vault_state.plan.model import Resource, ResourceId
from vault_state.spec.models import Prune


def read_live(vault: VaultReader, desired: dict[ResourceId, Resource], prune: Prune) -> dict[ResourceId, Resource]:
    live: dict[ResourceId, Resource] = {}
    queue = [""]
    while queue:
        namespace = queue.pop(0)
        found = read_namespace(vault.within(namespace) if namespace else vault, desired, prune, namespace)
        live.update(found)
        queue += [
            child for rid in found
            if rid.kind == "namespace" and (child := _join(namespace, rid.path)) and rid in desired
            and any(d.namespace == child for d in desired)
        ]
    return live


def read_namespace(
    vault: VaultReader, desired: dict[ResourceId, Resource], prune: Prune, namespace: str
) -> dict[ResourceId, Resource]:
    """The live objects of one namespace, read by the kinds with the ids they know (local), returned
    with the namespace's path in their ids."""
    scope = ReadScope({rid.local(): r for rid, r in desired.items() if rid.namespace == namespace}, prune, {})
    for kind in KINDS:
        for resource in kind.read(vault, scope):
            scope.live[resource.id] = resource
    if not namespace:
        return scope.live
    return {rid.within(namespace): replace(r, id=rid.within(namespace)) for rid, r in scope.live.items()}


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name
