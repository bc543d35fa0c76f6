"""Several state files as one state: `-f DIR` (its *.yaml and *.yml, sorted) or repeated `-f`.

The files are peers, merged by key before validation: the same object declared in two files is a
located error naming both places, settings (`version`, `prune`, `lint`, ...) must agree or be set
once, and `MultiSource` locates every merged value in the file it came from.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from vault_state.errors import Diagnostic, InputError, Location, VaultStateError
from vault_state.spec.loader import LoadedState, load_state, model_problems, parse_file, validate_state
from vault_state.spec.models import Namespace, Sections, StateFile
from vault_state.spec.positions import SourceMap
from vault_state.spec.schema_walk import unwrap_type

SUFFIXES = (".yaml", ".yml")

# What one entry of a section is called in messages ("policy 'reader' is also declared at ...").
_ENTRY = {
    "secrets_engines": "secrets engine", "policies": "policy", "auth_methods": "auth method",
    "token_roles": "token role", "password_policies": "password policy", "generic": "generic endpoint",
    "entities": "identity entity", "groups": "identity group", "audit_devices": "audit device",
    "rate_limit": "rate limit quota", "ui_headers": "UI header", "audited_headers": "audited header",
    "cors": "sys_config.cors", "tune": "token_auth.tune",
}

# Settings of the whole state (or of a namespace itself): the files must agree, or set them once.
_SETTINGS = frozenset({"version", "prune", "lint", "stack", "external_secrets", "custom_metadata", "prevent_destroy"})

Loc = tuple[str | int, ...]


def state_files(arguments: Sequence[str], recursive: bool = False) -> list[Path]:
    """The files `-f` names: a file as given, a directory as its *.yaml and *.yml files, sorted by
    path (with --recursive, those of its subdirectories too), hidden ones left out. A file named
    twice is read once."""
    found: list[Path] = []
    for argument in arguments:
        path = Path(argument)
        if path.is_dir():
            pattern = path.rglob("*") if recursive else path.glob("*")
            inside = sorted(p for p in pattern if p.suffix in SUFFIXES and p.is_file() and not _hidden(p, path))
            if not inside:
                where = " or below it" if recursive else " (add --recursive to read its subdirectories)"
                raise VaultStateError(f"-f {argument}: no *.yaml or *.yml file in this directory{where}")
            found += inside
        else:
            found.append(path)
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path)
    return list(unique.values())


def _hidden(path: Path, directory: Path) -> bool:
    """A file or directory whose name starts with '.' (`.github/`, an editor's `.x.yaml.swp`) is skipped."""
    return any(part.startswith(".") for part in path.relative_to(directory).parts)


def load_states(arguments: Sequence[str], recursive: bool = False, overlays: Sequence[str] = ()) -> LoadedState:
    """Load what `-f` names as one state, with `--overlay` files merged over it in order
    (vault_state/spec/overlay.py). One plain file without overlays loads as before; several merge."""
    if overlays:
        from vault_state.spec.overlay import load_overlaid  # overlay builds on this module

        return load_overlaid(arguments, recursive, overlays)
    paths = state_files(arguments, recursive)
    if len(paths) == 1 and not Path(arguments[0]).is_dir():
        return load_state(paths[0])
    whole, source = merge_peers(paths)
    loaded = validate_state(whole, source, str(paths[0]), paths[0].parent)
    return replace(loaded, files=paths)


def merge_peers(paths: Sequence[Path]) -> tuple[dict[str, Any], MultiSource]:
    """The files' plain data merged as peers (not validated as a whole yet), and where each value
    came from. Each file is validated alone first. Raises InputError with every located problem."""
    parsed: list[tuple[Any, SourceMap]] = []
    problems: list[Diagnostic] = []
    for path in paths:
        try:
            data, source = parse_file(path)
        except InputError as exc:
            problems += exc.diagnostics
            continue
        if not isinstance(data, dict):
            problems.append(Diagnostic(Location(str(path), 1, 1), "the state file must be a mapping of keys such as "
                                       "'version', 'policies'"))
            continue
        # Each file alone first, so its mistakes are reported in it; `version` may be in another file.
        problems += model_problems({"version": 1, **data}, source)
        parsed.append((data, source))
    if problems:
        raise InputError(problems)
    merged = _Merge([source for _, source in parsed])
    whole: dict[str, Any] = {}
    for index, (part, _) in enumerate(parsed):
        merged.mapping(StateFile, whole, part, (), index)
    if merged.problems:
        raise InputError(merged.problems)
    return whole, MultiSource(merged.sources, merged.origins)


class MultiSource(SourceMap):
    """Locates a value of the merged state in the file that declared it: each merged object's `loc`
    prefix maps to (its file's SourceMap, its loc in that file); the longest known prefix wins."""

    def __init__(self, sources: Sequence[SourceMap], origins: dict[Loc, tuple[int, Loc]]) -> None:
        super().__init__(sources[0].file, sources[0].root)
        self.sources, self.origins = list(sources), origins

    def _route(self, loc: Sequence[str | int]) -> tuple[SourceMap, Loc]:
        whole = tuple(loc)
        for size in range(len(whole), 0, -1):
            origin = self.origins.get(whole[:size])
            if origin is not None:
                index, there = origin
                return self.sources[index], (*there, *whole[size:])
        return self.sources[0], whole

    def locate(self, loc: Sequence[str | int], *, key: bool = False) -> Location:
        source, there = self._route(loc)
        return source.locate(there, key=key)

    def node(self, loc: Sequence[str | int]) -> Any:
        source, there = self._route(loc)
        return source.node(there)

    def text_line(self, loc: Sequence[str | int], line_in_text: int) -> Location:
        source, there = self._route(loc)
        return source.text_line(there, line_in_text)

    def base_dir_at(self, loc: Sequence[str | int]) -> Path | None:
        source, _ = self._route(loc)
        return Path(source.file).parent


class _Merge:
    """Merges each file's plain data into one, remembering where every entry came from."""

    def __init__(self, sources: list[SourceMap]) -> None:
        self.sources = sources
        self.origins: dict[Loc, tuple[int, Loc]] = {}
        self.problems: list[Diagnostic] = []

    def mapping(self, model: type[BaseModel], into: dict[str, Any], part: dict[str, Any], loc: Loc, index: int) -> None:
        """Merge `part` (file `index`'s mapping at `loc`, of `model`) into `into`."""
        for key, value in part.items():
            here = (*loc, key)
            if key not in into:
                into[key], self.origins[here] = value, (index, here)
                continue
            field = model.model_fields.get(key) if isinstance(key, str) else None
            kind = unwrap_type(field.annotation) if field else None
            if key in _SETTINGS and model in (StateFile, Namespace):
                self._setting(into[key], value, here, index)
            elif typing.get_origin(kind) is dict and isinstance(into[key], dict) and isinstance(value, dict):
                entry = unwrap_type(typing.get_args(kind)[1])
                for name, spec in value.items():
                    self._entry(entry, into[key], name, spec, (*here, name), index)
            elif _container(kind) and isinstance(into[key], dict) and isinstance(value, dict):
                self.mapping(kind, into[key], value, here, index)
            elif typing.get_origin(kind) is list and isinstance(into[key], list) and isinstance(value, list):
                for position, item in enumerate(value):  # `checks`: the files' lists, one after the other
                    self.origins[(*here, len(into[key]))] = (index, (*here, position))
                    into[key].append(item)
            elif model in (StateFile, Namespace) or field is None:
                self._setting(into[key], value, here, index)
            else:  # a single object inside a section (sys_config.cors, token_auth.tune)
                self._twice(_ENTRY.get(key, key), "", here, index)

    def _entry(self, entry: Any, into: dict[Any, Any], name: Any, spec: Any, here: Loc, index: int) -> None:
        if name not in into:
            into[name], self.origins[here] = spec, (index, here)
        elif entry is Namespace and isinstance(into[name], dict) and isinstance(spec, dict):
            self.mapping(Namespace, into[name], spec, here, index)  # two files may add to one namespace
        else:
            self._twice(_ENTRY.get(str(here[-2]), str(here[-2])), f" '{name}'", here, index)

    def _first(self, here: Loc) -> Location:
        """Where the value now merged at `here` was declared (by the longest prefix with an origin)."""
        for size in range(len(here), 0, -1):
            if here[:size] in self.origins:
                index, there = self.origins[here[:size]]
                return self.sources[index].locate((*there, *here[size:]), key=True)
        return self.sources[0].locate(here, key=True)

    def _twice(self, what: str, name: str, here: Loc, index: int) -> None:
        first_at = self._first(here)
        self.problems.append(Diagnostic(
            self.sources[index].locate(here, key=True),
            f"{what}{name}{_within(here)} is also declared at {first_at}",
        ))

    def _setting(self, before: Any, value: Any, here: Loc, index: int) -> None:
        if before == value:
            return
        first_at = self._first(here)
        self.problems.append(Diagnostic(
            self.sources[index].locate(here, key=True),
            f"'{here[-1]}'{_within(here)} is set differently at {first_at}; the files must agree, "
            "or set it in one file only",
        ))


def _container(kind: Any) -> typing.TypeGuard[type[BaseModel]]:
    """A model that only groups sections (identity, quotas, sys_config, token_auth): merged field by field."""
    if not (isinstance(kind, type) and issubclass(kind, BaseModel)) or issubclass(kind, Sections):
        return False
    for field in kind.model_fields.values():
        inner = unwrap_type(field.annotation)
        single = field.default is None and isinstance(inner, type) and issubclass(inner, BaseModel)
        if typing.get_origin(inner) is not dict and not single and not _container(inner):
            return False
    return True


def _within(here: Loc) -> str:
    """' in namespace a/b' for an entry inside namespaces, else ''."""
    names = [str(here[i + 1]) for i in range(len(here) - 2) if here[i] == "namespaces"]
    return f" in namespace {'/'.join(names)}" if names else ""
