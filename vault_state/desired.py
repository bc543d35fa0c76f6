"""Turn a loaded state file into the desired snapshot, resolving value sources (env, files)."""

from __future__ import annotations

from collections.abc import Mapping

from vault_state.errors import InputError
from vault_state.kinds.registry import KINDS
from vault_state.plan.model import Resource, ResourceId
from vault_state.spec.loader import LoadedState
from vault_state.spec.sources import Resolver


def build_desired(
    loaded: LoadedState, env: Mapping[str, str], resolver: Resolver | None = None
) -> dict[ResourceId, Resource]:
    """Every resource the file declares, in canonical form. Raises InputError for unreadable sources.

    `resolver` (default: a plain one over `env`) lets a saved plan record the sources it resolves."""
    resolver = resolver or Resolver(loaded.base_dir, env, loaded.source)
    desired: dict[ResourceId, Resource] = {}
    for kind in KINDS:
        for resource in kind.desired(loaded.state, resolver):
            desired[resource.id] = resource
    if resolver.diagnostics:
        raise InputError(resolver.diagnostics)
    return desired
