"""Turn a loaded state file into the desired snapshot, resolving value sources (env, files).

The root's sections and every namespace's (recursively) go through the same kinds; objects in a
namespace get its path in their ids, and their locations and source problems point into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from vault_state.errors import InputError
from vault_state.kinds.registry import KINDS
from vault_state.plan.model import Resource, ResourceId
from vault_state.spec.loader import LoadedState
from vault_state.spec.models import walk_sections
from vault_state.spec.positions import PrefixedSource
from vault_state.spec.sources import Resolver


def build_desired(
    loaded: LoadedState, env: Mapping[str, str], resolver: Resolver | None = None
) -> dict[ResourceId, Resource]:
    """Every resource the file declares, in canonical form. Raises InputError for unreadable sources.

    `resolver` (default: a plain one over `env`) lets a saved plan record the sources it resolves."""
    resolver = resolver or Resolver(loaded.base_dir, env, loaded.source)
    desired: dict[ResourceId, Resource] = {}
    for namespace, sections, prefix in walk_sections(loaded.state):
        scoped = replace(resolver, source=PrefixedSource(resolver.source, prefix)) if prefix else resolver
        for kind in KINDS:
            for resource in kind.desired(sections, scoped):
                rid = resource.id.within(namespace)
                desired[rid] = replace(resource, id=rid) if namespace else resource
    if resolver.diagnostics:
        raise InputError(resolver.diagnostics)
    return desired
