"""Overlays (`--overlay FILE`, repeatable): per-environment changes merged over the `-f` files in order.

Maps merge by key, recursively; lists and single values (a string, a `{env: ...}` value source, a
policy) are replaced; `null` removes a key or an object. Every value keeps the file and line it
came from, so a located error or a plan line for an overlaid value names the overlay.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Discriminator, Tag

from vault_state.errors import Diagnostic, InputError, Location
from vault_state.spec.loader import LoadedState, parse_file, validate_state
from vault_state.spec.many import Loc, MultiSource, merge_peers, state_files
from vault_state.spec.models import StateFile
from vault_state.spec.positions import SourceMap
from vault_state.spec.schema_walk import unwrap_type


def load_overlaid(arguments: Sequence[str], recursive: bool, overlays: Sequence[str]) -> LoadedState:
    """The `-f` files merged as peers, then each overlay merged over them in order, then validated
    as one state. Raises InputError with every located problem (in the file that makes it)."""
    paths = state_files(arguments, recursive)
    whole, base = merge_peers(paths)
    overlay_paths = [Path(name) for name in overlays]
    source = OverlaySource(base, [_parse_overlay(path) for path in overlay_paths], whole)
    problems: list[Diagnostic] = []
    for index, (data, _) in enumerate(source.overlays):
        merge = _Overlay(source, len(base.sources) + index)
        merge.mapping(StateFile, whole, data, ())
        problems += merge.problems
    if problems:
        raise InputError(problems)
    loaded = validate_state(whole, source, str(paths[0]), paths[0].parent)
    return replace(loaded, files=[*paths, *overlay_paths])


# The loader's words for a whole state file, and what they mean for an overlay (no `version:`).
_AS_OVERLAY = {
    "the state file is empty; it must start with 'version: 1'": "the overlay is empty; write the keys it changes",
    "the state file must be a mapping of keys such as 'version', 'policies'":
        "an overlay must be a mapping of state-file keys such as 'policies'",
}


def _parse_overlay(path: Path) -> tuple[dict[str, Any], SourceMap]:
    try:
        data, source = parse_file(path)
    except InputError as exc:
        raise InputError([replace(d, message=_as_overlay(d.message)) for d in exc.diagnostics]) from None
    if not isinstance(data, dict):
        message = _AS_OVERLAY["the state file must be a mapping of keys such as 'version', 'policies'"]
        raise InputError([Diagnostic(Location(str(path), 1, 1), message)])
    return data, source


def _as_overlay(message: str) -> str:
    return _AS_OVERLAY.get(message, message.replace("the state file", "the overlay"))


class OverlaySource(MultiSource):
    """The base files' MultiSource, extended with the overlays: an overlaid value's loc routes to
    the overlay that set it last (an overlay has the same shape as the state, so its loc is the same)."""

    def __init__(self, base: MultiSource, overlays: list[tuple[dict[str, Any], SourceMap]], data: Any) -> None:
        super().__init__([*base.sources, *(source for _, source in overlays)], dict(base.origins))
        self.overlays, self.data = overlays, data
        self.first_overlay = len(base.sources)

    def _route(self, loc: Sequence[str | int]) -> tuple[SourceMap, Loc]:
        """As MultiSource's, but origins sit below the entries too, where pydantic's `loc` has parts
        that are no keys (a union's tag: `auth_methods.x.approle.roles`): match the keys only."""
        keys: list[str | int] = []
        kept: list[int] = []  # where each of `keys` is in `loc`
        node = self.data
        for position, part in enumerate(loc):
            if _has(node, part):
                keys.append(part)
                kept.append(position)
                node = node[part]
        for size in range(len(keys), 0, -1):
            origin = self.origins.get(tuple(keys[:size]))
            if origin is not None:
                index, there = origin
                return self.sources[index], (*there, *loc[kept[size - 1] + 1:])
        return super()._route(loc)

    def overlaid(self) -> Iterator[tuple[Loc, Location]]:
        """Every value an overlay set (its loc in the state, where the overlay sets it)."""
        for loc, (index, there) in self.origins.items():
            if index >= self.first_overlay:
                yield loc, self.sources[index].locate(there, key=True)


def _has(node: Any, part: str | int) -> bool:
    if isinstance(node, dict):
        return part in node
    return isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)


class _Overlay:
    """Merges one overlay's plain data into the state, moving the origins of what it sets."""

    def __init__(self, source: OverlaySource, index: int) -> None:
        self.source, self.index = source, index
        self.overlay = source.sources[index]
        self.problems: list[Diagnostic] = []

    def mapping(self, kind: Any, into: dict[Any, Any], part: dict[Any, Any], loc: Loc) -> None:
        """Merge `part` (the overlay's mapping at `loc`, whose type is `kind` when known) into `into`."""
        for key, value in part.items():
            here = (*loc, key)
            if value is None:
                self._remove(into, key, here)
                continue
            current = into.get(key)
            merge, inner = _merge_as(_field_type(kind, key), current, value)
            if merge and isinstance(current, dict):
                self.mapping(inner, current, value, here)
            else:
                into[key] = value
                self._set(here, deep=isinstance(current, dict | list))

    def _remove(self, into: dict[Any, Any], key: Any, here: Loc) -> None:
        if key not in into:
            self.problems.append(Diagnostic(
                self.overlay.locate(here, key=True),
                f"nothing to remove: '{'.'.join(str(p) for p in here)}' is not in the files the overlay applies to",
            ))
            return
        if isinstance(into.pop(key), dict | list):
            self._forget(here)
        else:
            self.source.origins.pop(here, None)

    def _set(self, here: Loc, deep: bool) -> None:
        """`here` now holds the overlay's value; `deep`: it replaced a map or list, whose origins go."""
        if deep:
            self._forget(here)
        self.source.origins[here] = (self.index, here)

    def _forget(self, here: Loc) -> None:
        """Drop the origins at and below `here`: what was there is gone or replaced."""
        size = len(here)
        for loc in [loc for loc in self.source.origins if loc[:size] == here]:
            del self.source.origins[loc]


def _field_type(kind: Any, key: Any) -> Any:
    """The declared type of `key` inside a value of type `kind`, or None when it cannot be told."""
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        field = kind.model_fields.get(key) if isinstance(key, str) else None
        return field.annotation if field else None
    if typing.get_origin(kind) is dict:
        return typing.get_args(kind)[1]
    return None


def _merge_as(tp: Any, current: Any, value: Any) -> tuple[bool, Any]:
    """How the overlay's `value` meets the base's `current` (declared type `tp`, None when unknown):
    (True, the type to merge by key as) for two mappings, or (False, None): replace, because a
    side is not a mapping or the mapping is one value (a `{env: ...}` value source, a structured
    policy: a string could stand in its place)."""
    if not (isinstance(current, dict) and isinstance(value, dict)):
        return False, None
    if tp is None:
        return True, None
    chooser = _discriminator(tp)
    tp = unwrap_type(tp)
    if (isinstance(tp, type) and issubclass(tp, BaseModel)) or typing.get_origin(tp) is dict:
        return True, tp
    if typing.get_origin(tp) not in (typing.Union, types.UnionType):
        return False, None
    if not all(isinstance(unwrap_type(m), type) and issubclass(unwrap_type(m), BaseModel) for m in typing.get_args(tp)):
        return False, None
    tag = chooser(current) if chooser is not None else None  # auth methods: the member the base's `type` picks
    for member in typing.get_args(tp):
        if any(isinstance(m, Tag) and m.tag == tag for m in getattr(member, "__metadata__", ())):
            return True, unwrap_type(member)
    return True, None


def _discriminator(tp: Any) -> Any:
    """The function choosing a union's member, when `tp` is `Annotated[Union, Discriminator(fn)]`."""
    while typing.get_origin(tp) is typing.Annotated:
        for meta in typing.get_args(tp)[1:]:
            if isinstance(meta, Discriminator) and callable(meta.discriminator):
                return meta.discriminator
        tp = typing.get_args(tp)[0]
    return None


def overlay_origins(document: dict[str, Any], source: SourceMap) -> None:
    """Mark in a plan document the changed values an overlay set: each change gets `overlaid`
    {dotted path in the object: FILE:LINE:COL in the overlay}. A value belongs to the innermost
    object around it (a role's value to the role, not to its auth method), found by location; an
    object the overlay adds is already located in it."""
    if not isinstance(source, OverlaySource):
        return
    objects = {c["location"]: c for c in document["changes"] if c["location"]}
    for loc, where in source.overlaid():
        for size in range(len(loc), 0, -1):
            change = objects.get(str(source.locate(loc[:size], key=True)))
            if change is None:
                continue
            path = ".".join(str(part) for part in loc[size:])
            if path and _changed(change, path):  # no path: the overlay adds the whole object
                change["overlaid"] = dict(sorted({**change.get("overlaid", {}), path: str(where)}.items()))
            break


def _changed(change: dict[str, Any], path: str) -> bool:
    """Whether the value at `path` is part of what `change` does (all of a create, a diff's paths)."""
    if change["action"] in ("create", "replace"):
        return True
    return any(d["path"] == path or d["path"].startswith(f"{path}.") or path.startswith(f"{d['path']}.")
               for d in change["diff"])
