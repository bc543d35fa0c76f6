"""Where a declared kind's objects sit: in the state file, and on the server.

A `Place` yields the objects a file declares (with their location in the file), says at which API
path each one lives, which collections to LIST when the server is read, and which object a child
needs first (the secrets engine a transit key lives in).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from vault_state.kinds.base import ReadScope
from vault_state.plan.model import ResourceId

if TYPE_CHECKING:  # spec.models imports the kinds' models: a type only here
    from vault_state.spec.models import Sections

Loc = tuple[str | int, ...]


class Place(Protocol):
    """Where a kind's objects sit in the state file and on the server."""

    @property
    def single(self) -> bool:
        """One object per parent, never listed or deleted (an engine's config)."""
        ...

    def objects(self, state: Sections) -> Iterable[tuple[str, Loc, BaseModel]]:
        """(id path, location in the file, spec) of every object the file declares."""
        ...

    def api_path(self, id_path: str) -> str: ...

    def listings(self, scope: ReadScope) -> list[tuple[str, str]]:
        """(id prefix, LIST path) of every collection to read."""
        ...

    def parent(self, id_path: str) -> ResourceId | None: ...


def _section_of(state: Sections, section: str) -> Any:
    """The node at a dotted section (`sys_config.ui_headers`); None when a part is unset."""
    node: Any = state
    for part in section.split("."):
        node = getattr(node, part, None)
        if node is None:
            return None
    return node


class Flat:
    """Objects at `<path>/<name>`, listed at `<path>`, children of nothing (a place's other half)."""

    path: str
    single = False

    def api_path(self, id_path: str) -> str:
        return f"{self.path}/{id_path}"

    def listings(self, scope: ReadScope) -> list[tuple[str, str]]:
        return [("", self.path)]

    def parent(self, id_path: str) -> ResourceId | None:
        return None


@dataclass(frozen=True)
class TopLevel(Flat):
    """`section: {name: object}` at the top of the file (a dotted section nests: `quotas.rate_limit`);
    objects at `<path>/<name>`."""

    section: str
    path: str

    def objects(self, state: Sections) -> Iterable[tuple[str, Loc, BaseModel]]:
        specs: Mapping[str, BaseModel] = _section_of(state, self.section) or {}
        for name, spec in specs.items():
            yield name, (*self.section.split("."), name), spec


@dataclass(frozen=True)
class TopSingleton:
    """`section: object`, one object of the whole server at `path` (`sys/config/cors`), id
    `<kind>/<name>`. Never listed or deleted: removing it from the file leaves it unmanaged."""

    section: str
    path: str
    name: str
    single = True

    def objects(self, state: Sections) -> Iterable[tuple[str, Loc, BaseModel]]:
        spec = _section_of(state, self.section)
        if spec is not None:
            yield self.name, tuple(self.section.split(".")), spec

    def api_path(self, id_path: str) -> str:
        return self.path

    def listings(self, scope: ReadScope) -> list[tuple[str, str]]:
        return []

    def parent(self, id_path: str) -> ResourceId | None:
        return None


def _engine_section(engine: Any, section: tuple[str, ...]) -> Any:
    node = engine
    for part in section:
        node = getattr(node, part, None) if not isinstance(node, dict) else node.get(part)
        if node is None:
            return None
    return node


def _managed_engines(scope: ReadScope, engine_type: str) -> list[str]:
    """Engines of `engine_type` the file declares and the server has with that type (else they
    are created or replaced, and what is in them starts from nothing)."""
    mounts = []
    for rid, wanted in scope.desired.items():
        live = scope.live.get(rid)
        same = live is not None and live.values.get("type") == engine_type
        if rid.kind == "secrets_engine" and wanted.values.get("type") == engine_type and same:
            mounts.append(rid.path)
    return mounts


@dataclass(frozen=True)
class UnderEngine:
    """`secrets_engines.<mount>.<section...>: {name: object}` for engines of `engine_type`; objects
    at `<mount>/<path>/<name>`, ids `<kind>/<mount>/<name>`."""

    engine_type: str
    section: tuple[str, ...]
    path: str
    single = False

    def objects(self, state: Sections) -> Iterable[tuple[str, Loc, BaseModel]]:
        for mount, engine in state.secrets_engines.items():
            specs = _engine_section(engine, self.section) if engine.type == self.engine_type else None
            for name, spec in (specs or {}).items():
                yield f"{mount}/{name}", ("secrets_engines", mount, *self.section, name), spec

    def api_path(self, id_path: str) -> str:
        mount, name = id_path.rsplit("/", 1)
        return f"{mount}/{self.path}/{name}"

    def listings(self, scope: ReadScope) -> list[tuple[str, str]]:
        return [(f"{mount}/", f"{mount}/{self.path}") for mount in _managed_engines(scope, self.engine_type)]

    def parent(self, id_path: str) -> ResourceId | None:
        return ResourceId("secrets_engine", id_path.rsplit("/", 1)[0])


@dataclass(frozen=True)
class EngineSingleton:
    """`secrets_engines.<mount>.<section...>: object`, one per engine of `engine_type`, at
    `<mount>/<path>`; id `<kind>/<mount>`. Never listed or deleted: removing it resets it."""

    engine_type: str
    section: tuple[str, ...]
    path: str
    exists_list: str = ""
    """For an object whose read path answers an error, not 404, while it was never configured (a
    PKI mount's root): a LIST path under the engine that is empty until the object exists."""
    single = True

    def objects(self, state: Sections) -> Iterable[tuple[str, Loc, BaseModel]]:
        for mount, engine in state.secrets_engines.items():
            spec = _engine_section(engine, self.section) if engine.type == self.engine_type else None
            if spec is not None:
                yield mount, ("secrets_engines", mount, *self.section), spec

    def api_path(self, id_path: str) -> str:
        return f"{id_path}/{self.path}"

    def listings(self, scope: ReadScope) -> list[tuple[str, str]]:
        return []

    def parent(self, id_path: str) -> ResourceId | None:
        return ResourceId("secrets_engine", id_path)
