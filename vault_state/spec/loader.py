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
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarbool import ScalarBoolean

from vault_state.errors import Diagnostic, InputError, Location, Severity
from vault_state.spec.fastyaml import compose_fast
from vault_state.spec.models import StateFile
from vault_state.spec.policy_files import read_policy_files
from vault_state.spec.positions import SourceMap
from vault_state.spec.schema_walk import field_names_at
from vault_state.spec.semantics import check_semantics, check_unvalidated

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
    files: list[Path] = field(default_factory=list)
    """Every file read, in order, when the state came from several (`-f DIR`, repeated -f); else empty."""


class _TooLarge(Exception):
    pass


class _NotText(Exception):
    """A string holding a lone surrogate (`"\\ud800"`): not encodable, so neither printable nor sendable."""

    def __init__(self, loc: tuple[Any, ...]) -> None:
        self.loc = loc


def load_state(path: Path) -> LoadedState:
    """Read, parse and validate `path`. Raises InputError with every located problem."""
    data, source = parse_file(path)
    return validate_state(data, source, str(path), path.parent)


def parse_file(path: Path) -> tuple[Any, SourceMap]:
    """Read and parse `path` (not validated): its plain data and where each value sits."""
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise _located(name, 1, 1, f"the state file is {size} bytes; the limit is {MAX_BYTES} (10 MB)")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _located(name, 1, 1, f"cannot read the state file: {_os_reason(exc)}") from None
    return parse_text(text, name)


def load_text(text: str, name: str, base_dir: Path | None = None) -> LoadedState:
    """Parse and validate YAML `text`, reporting problems against file `name`."""
    data, source = parse_text(text, name)
    return validate_state(data, source, name, base_dir)


def parse_text(text: str, name: str) -> tuple[Any, SourceMap]:
    """Parse YAML `text` (not validated): its plain data and where each value sits."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
        raise _located(name, 1, 1, f"the state file is larger than {MAX_BYTES} bytes (10 MB)")
    fast = compose_fast(text, name, MAX_NODES)
    if fast is not None and isinstance(fast[0], dict):
        return fast
    return _load_round_trip(text, name)


def _load_round_trip(text: str, name: str) -> tuple[Any, SourceMap]:
    """The reference path: ruamel's round-trip loader, for every file the fast path declines."""
    root = _parse(text, name)
    source = SourceMap(name, root)
    if root is None:
        raise _located(name, 1, 1, "the state file is empty; it must start with 'version: 1'")
    if not isinstance(root, CommentedMap):
        raise _located(name, 1, 1, "the state file must be a mapping of keys such as 'version', 'policies'")
    try:
        data = _plain(root, [0], set(), ())
    except _NotText as exc:
        raise InputError(
            [Diagnostic(source.locate(exc.loc), "invalid text: a \\ud800-\\udfff escape is not a character")]
        ) from None
    except _TooLarge:
        raise _located(
            name, 1, 1, f"the state file expands to more than {MAX_NODES} values (YAML aliases?); refused"
        ) from None
    except RecursionError:
        raise _located(name, 1, 1, "the state file is nested too deeply or refers to itself") from None
    return data, source


def model_problems(data: Any, source: SourceMap) -> list[Diagnostic]:
    """Every located problem pydantic finds in `data` (empty when it validates)."""
    try:
        StateFile.model_validate(data)
    except ValidationError as exc:
        found = [_diagnostic(e, source) for e in exc.errors(include_url=False)]
        return found + [d for d in check_unvalidated(data, source) if d.is_error]
    return []


def validate_state(data: Any, source: SourceMap, name: str, base_dir: Path | None) -> LoadedState:
    """Validate parsed `data` (models, then semantics). Raises InputError with every located problem."""
    try:
        state = StateFile.model_validate(data)
    except ValidationError:
        raise InputError(model_problems(data, source)) from None
    unread = read_policy_files(state, source, base_dir or Path.cwd())
    if unread:
        raise InputError(unread)
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
        elif exc.problem and exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            # Where the unfinished construct began (an unclosed quote or bracket) is the useful place.
            start = exc.context_mark
            problem = f"{problem} ({exc.context} started at line {start.line + 1}, column {start.column + 1})"
        raise _located(name, line, col, f"invalid YAML: {problem}") from None
    except ReaderError as exc:  # a control character: no mark, only an offset into the text
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        code = ord(exc.character) if isinstance(exc.character, str) else int(exc.character)
        raise _located(name, line, column, f"invalid YAML: character #x{code:04x}: {exc.reason}") from None
    except (YAMLError, ValueError, TypeError) as exc:
        first = str(exc).splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _located(name, 1, 1, f"invalid YAML: {first}") from None
    except RecursionError:
        raise _located(name, 1, 1, "invalid YAML: the state file is nested too deeply") from None


def _plain(node: Any, budget: list[int], active: set[int], loc: tuple[Any, ...]) -> Any:
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
                return {_key(k, loc): _plain(v, budget, active, (*loc, k)) for k, v in node.items()}
            return [_plain(v, budget, active, (*loc, i)) for i, v in enumerate(node)]
        finally:
            active.discard(id(node))
    if isinstance(node, ScalarBoolean):
        return bool(node)
    if isinstance(node, str):
        if not _encodable(node):
            raise _NotText(loc)
        return str(node)
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


def _key(key: Any, loc: tuple[Any, ...]) -> Any:
    if isinstance(key, str):
        if not _encodable(key):
            raise _NotText(loc)
        return str(key)
    return key


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _diagnostic(error: ErrorDetails, source: SourceMap) -> Diagnostic:
    loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "invalid_key" or (loc and loc[-1] == "[key]" and kind == "string_type"):
        return Diagnostic(source.locate(loc if kind != "invalid_key" else (*loc, "[key]")),
                          f"key {error['input']!r} must be a string (quote it)")
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return Diagnostic(source.locate(loc, key=True), f"unknown key '{key}'{_did_you_mean(key, loc)}")
    if kind == "missing":
        where = source.locate(loc[:-1])
        hint = " (the format version; write 'version: 1')" if loc == ("version",) else ""
        return Diagnostic(where, f"missing required key '{loc[-1]}'{hint}")
    message = error["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        message = "expected a mapping (key: value lines or {key: value})"
    elif kind == "list_type":
        message = "expected a list ([a, b] or '- item' lines)"
    elif kind == "bool_type":
        message = "expected true or false"
    elif kind == "int_type":
        message = "expected a whole number"
    elif kind == "string_type":  # the value is not printed: it may be a numeric password
        message = "expected a string (quote a value that looks like a number, date or boolean)"
    if loc and loc[-1] == "[key]":  # a bad name or path: the message quotes it
        return Diagnostic(source.locate(loc), message)
    named = _field_name(loc)
    return Diagnostic(source.locate(loc), f"{named}: {message}" if named else message)


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if isinstance(p, str) and not p.startswith("[") and p not in _TAGS]
    return parts[-1] if parts else ""


_TAGS = frozenset(
    {"literal", "env", "file", "hcl", "structured", "policy_file", "kubernetes", "approle", "userpass", "jwt",
     "generic"}
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

