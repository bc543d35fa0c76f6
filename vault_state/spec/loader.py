"""Load a state file: bounded YAML parsing, pydantic validation, every problem as a located Diagnostic.

Guarantees: never raises anything but `InputError` for bad input; refuses files over 10 MB and
alias expansion beyond `MAX_NODES` nodes before validating; reports all problems at once.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.scalarbool import ScalarBoolean

from vault_state.errors import Diagnostic, InputError, Location, Severity
from vault_state.spec.models import StateFile
from vault_state.spec.positions import SourceMap
from vault_state.spec.schema_walk import field_names_at
from vault_state.spec.semantics import check_semantics

MAX_BYTES = 10 * 1024 * 1024
MAX_NODES = 1_000_000


@dataclass
class LoadedState:
    """A validated state file with the positions of its values and the warnings found."""

    path: Path
    base_dir: Path
    state: StateFile
    source: SourceMap
    warnings: list[Diagnostic] = field(default_factory=list)


class _TooLarge(Exception):
    pass


def load_state(path: Path) -> LoadedState:
    """Read, parse and validate `path`. Raises InputError with every located problem."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _located(name, 1, 1, f"the state file is {size} bytes; the limit is {MAX_BYTES} (10 MB)")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _located(name, 1, 1, f"cannot read the state file: {_os_reason(exc)}") from None
    return load_text(text, name, base_dir=path.parent)


def load_text(text: str, name: str, base_dir: Path | None = None) -> LoadedState:
    """Parse and validate YAML `text`, reporting problems against file `name`."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _located(name, 1, 1, f"the state file is larger than {MAX_BYTES} bytes (10 MB)")
    root = _parse(text, name)
    source = SourceMap(name, root)
    if root is None:
        raise _located(name, 1, 1, "the state file is empty; it must start with 'version: 1'")
    if not isinstance(root, CommentedMap):
        raise _located(name, 1, 1, "the state file must be a mapping of keys such as 'version', 'policies'")
    try:
        data = _plain(root, [0], set())
    except _TooLarge:
        raise _located(
            name, 1, 1, f"the state file expands to more than {MAX_NODES} values (YAML aliases?); refused"
        ) from None
    except RecursionError:
        raise _located(name, 1, 1, "the state file is nested too deeply or refers to itself") from None
    try:
        state = StateFile.model_validate(data)
    except ValidationError as exc:
        raise InputError([_diagnostic(e, source) for e in exc.errors(include_url=False)]) from None
    problems = check_semantics(state, source)
    errors = [d for d in problems if d.is_error]
    if errors:
        raise InputError(errors)
    warnings = [d for d in problems if not d.is_error]
    return LoadedState(Path(name), base_dir or Path.cwd(), state, source, warnings)


def _parse(text: str, name: str) -> Any:
    yaml = YAML(typ="rt", pure=True)
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        if "duplicate key" in str(problem):
            # ruamel's message quotes both values, which may be secrets: name the key only.
            key = str(problem).split('"')[1] if '"' in str(problem) else ""
            problem = f"duplicate key '{key}'"
        raise _located(name, line, col, f"invalid YAML: {problem}") from None
    except (YAMLError, ValueError, TypeError) as exc:
        raise _located(name, 1, 1, f"invalid YAML: {exc}") from None


def _plain(node: Any, budget: list[int], active: set[int]) -> Any:
    """ruamel's tree as plain dicts, lists and scalars, counting nodes to stop alias bombs."""
    budget[0] += 1
    if budget[0] > MAX_NODES:
        raise _TooLarge
    if isinstance(node, CommentedMap | CommentedSeq):
        if id(node) in active:
            raise RecursionError
        active.add(id(node))
        try:
            if isinstance(node, CommentedMap):
                return {k: _plain(v, budget, active) for k, v in node.items()}
            return [_plain(v, budget, active) for v in node]
        finally:
            active.discard(id(node))
    if isinstance(node, ScalarBoolean):
        return bool(node)
    if isinstance(node, str):
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _diagnostic(error: ErrorDetails, source: SourceMap) -> Diagnostic:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return Diagnostic(source.locate(loc, key=True), f"unknown key '{key}'{_did_you_mean(key, loc)}")
    if kind == "missing":
        where = source.locate(loc[:-1])
        hint = " (the format version; write 'version: 1')" if loc == ("version",) else ""
        return Diagnostic(where, f"missing required key '{loc[-1]}'{hint}")
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    named = _field_name(loc)
    return Diagnostic(source.locate(loc), f"{named}: {message}" if named else message)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if isinstance(p, str) and not p.startswith("[") and p not in _TAGS]
    return parts[-1] if parts else ""


_TAGS = frozenset(
    {"literal", "env", "file", "hcl", "structured", "kubernetes", "approle", "userpass", "jwt", "generic"}
)


def _did_you_mean(key: str, loc: tuple[Any, ...]) -> str:
    candidates = field_names_at(loc[:-1])
    matches = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    return f"; did you mean '{matches[0]}'?" if matches else ""


def _located(file: str, line: int, column: int, message: str) -> InputError:
    return InputError([Diagnostic(Location(file, line, column), message, Severity.ERROR)])


def _os_reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return "not valid UTF-8 text"

