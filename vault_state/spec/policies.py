"""Spec of an ACL policy: HCL text, a structured form rendered to canonical HCL, or an .hcl file; all parsed.

Vault stores policy text byte for byte, so the canonical text (LF line ends, one trailing newline)
is what is written and what both sides are compared as.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from pydantic import Field, PrivateAttr, field_validator

from vault_state.errors import Location
from vault_state.spec.fields import Adoptable
from vault_state.spec.hcl_text import loads_hcl
from vault_state.spec.types import Strict

CAPABILITIES = frozenset(
    {"create", "read", "update", "patch", "delete", "list", "sudo", "deny", "subscribe", "recover", "scan"}
)
_PATH_KEYS = frozenset(
    {
        "capabilities", "policy", "required_parameters", "allowed_parameters", "denied_parameters",
        "min_wrapping_ttl", "max_wrapping_ttl", "mfa_methods", "control_group", "pagination_limit",
        "subscribe_event_types",
    }
)


class PathRule(Strict):
    capabilities: list[str] = Field(min_length=1)
    required_parameters: list[str] = Field(default_factory=list)
    allowed_parameters: dict[str, list[str]] = Field(default_factory=dict)
    denied_parameters: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("capabilities")
    @classmethod
    def _known_capabilities(cls, caps: list[str]) -> list[str]:
        wrong = [cap for cap in caps if cap not in CAPABILITIES]
        if wrong:
            raise ValueError(f"invalid capability {wrong[0]!r}; expected some of {', '.join(sorted(CAPABILITIES))}")
        return caps


class StructuredPolicy(Adoptable):
    """`path: {"secret/data/*": {capabilities: [read]}}`, rendered to HCL."""

    path: dict[str, PathRule] = Field(min_length=1)

    def to_hcl(self) -> str:
        blocks = []
        for path, rule in self.path.items():
            lines = [f"path {json.dumps(path)} {{", f"  capabilities = {json.dumps(rule.capabilities)}"]
            if rule.required_parameters:
                lines.append(f"  required_parameters = {json.dumps(rule.required_parameters)}")
            for name in ("allowed_parameters", "denied_parameters"):
                params = getattr(rule, name)
                if params:
                    lines.append(f"  {name} = {{")
                    lines += [f"    {json.dumps(k)} = {json.dumps(v)}" for k, v in params.items()]
                    lines.append("  }")
            blocks.append("\n".join([*lines, "}"]))
        return "\n\n".join(blocks) + "\n"


class PolicyFile(Adoptable):
    """`{file: policies/app.hcl}`: the policy text is that file's, read when the state file is loaded
    (relative to the file that declares it), so its HCL is checked and located in the .hcl file."""

    file: str = Field(
        min_length=1,
        description="Path of an .hcl (or JSON) policy file, relative to the state file that declares it.",
    )
    _text: str | None = PrivateAttr(None)
    _shown: str = PrivateAttr("")
    _declared: Location | None = PrivateAttr(None)

    def loaded(self, text: str, shown: str, declared: Location | None = None) -> None:
        """Record the file's text, the name its problems are reported under, and for a policy a
        `policy_files:` pattern declares, where that pattern is (set by the loader)."""
        self._text, self._shown, self._declared = text, shown, declared

    @property
    def declared(self) -> Location | None:
        """Where the `policy_files:` pattern that matched this file is; None: declared under `policies:`."""
        return self._declared

    @property
    def shown(self) -> str:
        """The file as messages name it: its path joined to the state file's directory."""
        return self._shown or self.file

    def to_hcl(self) -> str:
        """The file's text, as read when the state was loaded."""
        if self._text is None:
            raise RuntimeError(f"policy file {self.file} was not read: load the state through the loader")
        return self._text


def policy_file_path(base: Path, file: str) -> Path:
    """Where `{file: ...}` names, joined to `base` as written (not resolved, so messages stay relative)."""
    return base / file


PLACEHOLDER = re.compile(r"\$\{auth/([^{}]+?)/@accessor\}")
"""`${auth/PATH/@accessor}`: the accessor of the auth method at PATH (vault-config-operator's form)."""


def placeholders(text: str) -> list[tuple[int, str]]:
    """(line, auth path) of each placeholder in a policy text; lines 1-based."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        found += [(number, m.group(1)) for m in PLACEHOLDER.finditer(line)]
    return found


def canonical_text(text: str) -> str:
    """LF line ends, trailing blanks at the end removed, exactly one trailing newline."""
    return text.replace("\r\n", "\n").rstrip() + "\n"


@dataclass(frozen=True)
class HclProblem:
    """A problem inside policy text; `line` is 1-based within the text."""

    line: int
    message: str
    column: int = 1


# pyhcl's parser says "Line L, column OFFSET: " (OFFSET counts from the start of the text), its
# lexer "Line L, column C, index OFFSET: "; both become a 1-based line and column.
_PYHCL_POSITION = re.compile(r"Line (\d+), column (\d+)(?:, index (\d+))?: ")


def check_policy_text(text: str) -> list[HclProblem]:
    """Parse policy HCL like Vault does and report syntax errors and invalid capabilities."""
    if not text.strip():
        return [HclProblem(1, "invalid policy: the policy text is empty (Vault refuses an empty policy)")]
    try:
        parsed = loads_hcl(text)
    except Exception as exc:  # pyhcl raises ValueError, and lexer errors of other types on odd input
        message = str(exc)
        match = _PYHCL_POSITION.match(message)
        line, column = 1, 1
        if match:
            line, column = int(match.group(1)), _column_at(text, int(match.group(3) or match.group(2)))
        elif message.startswith("Unexpected end of file"):  # just after the last character written
            line, column = text.rstrip().count("\n") + 1, len(text.rstrip().rsplit("\n", 1)[-1]) + 1
        detail = _PYHCL_POSITION.sub("", message, count=1)
        # The parser quotes offending characters raw; keep the message printable.
        detail = detail.encode("ascii", "backslashreplace").decode("ascii")
        return [HclProblem(line, "invalid policy HCL: " + detail, column)]
    return _check_structure(parsed, text)


def _column_at(text: str, offset: int) -> int:
    """The 1-based column of character `offset` of `text`."""
    offset = min(max(offset, 0), len(text))
    return offset - (text.rfind("\n", 0, offset) + 1) + 1


def _line_of(text: str, needle: str, start: int = 0) -> int:
    index = text.find(needle, start)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _column_of(text: str, needle: str, start: int = 0) -> int:
    index = text.find(needle, start)
    return _column_at(text, index) if index >= 0 else 1


def _check_structure(parsed: object, text: str) -> list[HclProblem]:
    if not isinstance(parsed, dict):
        return [HclProblem(1, "invalid policy: expected path blocks")]
    problems = [
        HclProblem(_line_of(text, key), f"invalid policy: unknown top-level key {key!r} (expected 'path')",
                   _column_of(text, key))
        for key in parsed
        if key not in ("path", "name")
    ]
    paths = parsed.get("path", {})
    if not isinstance(paths, dict):
        return [*problems, HclProblem(1, "invalid policy: 'path' must be a block with a path string")]
    for path, rule in paths.items():
        begin = max(text.find(json.dumps(path)), 0)
        line, column = _line_of(text, json.dumps(path)), _column_of(text, json.dumps(path))
        if not isinstance(rule, dict):
            problems.append(HclProblem(line, f"invalid policy: path {path!r} must be a block", column))
            continue
        problems += [
            HclProblem(_line_of(text, key, begin), f"invalid policy: path {path!r}: unknown key {key!r}",
                       _column_of(text, key, begin))
            for key in rule
            if key not in _PATH_KEYS
        ]
        caps = rule.get("capabilities", [])
        if not isinstance(caps, list):
            caps = [caps]
        # A path block that repeats `capabilities` parses as a list of lists: check every item.
        caps = [cap for item in caps for cap in (item if isinstance(item, list) else [item])]
        problems += [
            HclProblem(
                _line_of(text, json.dumps(cap), begin) if isinstance(cap, str) else line,
                f"invalid policy: path {path!r}: invalid capability {cap!r}",
                _column_of(text, json.dumps(cap), begin) if isinstance(cap, str) else column,
            )
            for cap in caps
            if not isinstance(cap, str) or cap not in CAPABILITIES
        ]
    return problems
