"""Read the live server into a snapshot, kind by kind, reading only what the file and prune need."""

from __future__ import annotations

from vault_state.kinds.base import ReadScope, VaultReader
from vault_state.kinds.registry import KINDS
from vault_state.plan.model import Resource, ResourceId
from vault_state.spec.models import Prune


def read_live(vault: VaultReader, desired: dict[ResourceId, Resource], prune: Prune) -> dict[ResourceId, Resource]:
    scope = ReadScope(desired, prune, {})
    for kind in KINDS:
        for resource in kind.read(vault, scope):
            scope.live[resource.id] = resource
    return scope.live
