"""Read the live server into a snapshot, kind by kind, reading only what the file and prune need.

The root of the file is read first; then each namespace the file declares that exists on the
server, parents before children, with the kinds' reads sent in that namespace. Ids of objects in
a namespace carry its path (`team-a:policy/x`); a namespace that does not exist yet is not read.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from vault_state.kinds.base import ReadScope, VaultReader
from vault_state.kinds.registry import KINDS, ROOT_ONLY
from vault_state.plan.model import Resource, ResourceId
from vault_state.spec.models import Prune


def read_live(
    vault: VaultReader, desired: dict[ResourceId, Resource], prune: Prune, parallelism: int = 1,
    inside: bool = False,
) -> dict[ResourceId, Resource]:
    """The live snapshot. The namespaces of one depth are read concurrently (`parallelism` at a time;
    the gateway bounds the requests in flight to the same number). `inside`: the tool connects
    inside a namespace (--namespace), where the server-wide kinds cannot be read either."""
    live: dict[ResourceId, Resource] = {}
    wanted = namespaces_read(desired)
    level = [""]
    with ThreadPoolExecutor(max_workers=max(1, parallelism), thread_name_prefix="namespaces") as pool:
        while level:
            reads = [(ns, vault.within(ns) if ns else vault) for ns in level]
            one = functools.partial(_read_one, desired=desired, prune=prune, inside=inside)
            # One namespace (or a limit of 1) is read in this thread: the sequential behaviour, exactly.
            results = list(map(one, reads) if len(reads) == 1 or parallelism == 1 else pool.map(one, reads))
            level = []
            for namespace, found in zip((ns for ns, _ in reads), results, strict=True):
                live.update(found)
                level += [
                    child for rid in found
                    if rid.kind == "namespace" and rid in desired and (child := _join(namespace, rid.path)) in wanted
                ]
    return live


def _read_one(
    item: tuple[str, VaultReader], desired: dict[ResourceId, Resource], prune: Prune, inside: bool
) -> dict[ResourceId, Resource]:
    return read_namespace(item[1], desired, prune, item[0], inside)


def read_namespace(
    vault: VaultReader, desired: dict[ResourceId, Resource], prune: Prune, namespace: str, inside: bool = False
) -> dict[ResourceId, Resource]:
    """The live objects of one namespace, read by the kinds with the ids they know (local), returned
    with the namespace's path in their ids."""
    scope = ReadScope({rid.local(): r for rid, r in desired.items() if rid.namespace == namespace}, prune, {})
    for kind in KINDS:
        if (namespace or inside) and kind.name in ROOT_ONLY:  # Vault: "only available in root namespace"
            continue
        for resource in kind.read(vault, scope):
            scope.live[resource.id] = resource
    if not namespace:
        return scope.live
    return {rid.within(namespace): replace(r, id=rid.within(namespace)) for rid, r in scope.live.items()}


def namespaces_read(desired: Mapping[ResourceId, Resource]) -> set[str]:
    """The namespaces a plan reads: each one the file declares objects in, and each one it declares
    (an empty `dev: {}` too: what a pruned kind holds there is deleted)."""
    declared = {_join(rid.namespace, rid.path) for rid in desired if rid.kind == "namespace"}
    return {"", *(rid.namespace for rid in desired), *declared}


def _join(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name
