"""Spec of an ACL policy: HCL text, or a structured form rendered to canonical HCL, both parsed.

Vault stores policy text byte for byte, so the canonical text (LF line ends, one trailing newline)
is what is written and what both sides are compared as.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from pydantic import Field, field_validator

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


_PYHCL_POSITION = re.compile(r"Line (\d+), column \d+: ")


def check_policy_text(text: str) -> list[HclProblem]:
    """Parse policy HCL like Vault does and report syntax errors and invalid capabilities."""
    if not text.strip():
        return [HclProblem(1, "invalid policy: the policy text is empty (Vault refuses an empty policy)")]
    try:
        parsed = loads_hcl(text)
    except Exception as exc:  # pyhcl raises ValueError, and lexer errors of other types on odd input
        message = str(exc)
        match = _PYHCL_POSITION.match(message)
        line = int(match.group(1)) if match else 1
        detail = _PYHCL_POSITION.sub("", message, count=1)
        # The parser quotes offending characters raw; keep the message printable.
        detail = detail.encode("ascii", "backslashreplace").decode("ascii")
        return [HclProblem(line, "invalid policy HCL: " + detail)]
    return _check_structure(parsed, text)


def _line_of(text: str, needle: str, start: int = 0) -> int:
    index = text.find(needle, start)
    return text.count("\n", 0, index) + 1 if index >= 0 else 1


def _check_structure(parsed: object, text: str) -> list[HclProblem]:
    if not isinstance(parsed, dict):
        return [HclProblem(1, "invalid policy: expected path blocks")]
    problems = [
        HclProblem(_line_of(text, key), f"invalid policy: unknown top-level key {key!r} (expected 'path')")
        for key in parsed
        if key not in ("path", "name")
    ]
    paths = parsed.get("path", {})
    if not isinstance(paths, dict):
        return [*problems, HclProblem(1, "invalid policy: 'path' must be a block with a path string")]
    for path, rule in paths.items():
        begin = max(text.find(json.dumps(path)), 0)
        line = _line_of(text, json.dumps(path))
        if not isinstance(rule, dict):
            problems.append(HclProblem(line, f"invalid policy: path {path!r} must be a block"))
            continue
        problems += [
            HclProblem(line, f"invalid policy: path {path!r}: unknown key {key!r}")
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
            )
            for cap in caps
            if not isinstance(cap, str) or cap not in CAPABILITIES
        ]
    return problems
