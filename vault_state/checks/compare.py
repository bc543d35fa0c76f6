"""Pure: what the `checks:` section expects against the capabilities Vault reported, and the result lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from vault_state.render.text import Line
from vault_state.spec.access import Check


@dataclass(frozen=True)
class Difference:
    """One capability on one path that is not as the check expects."""

    path: str
    capability: str
    expected: str  # "allowed" or "denied"
    actual: tuple[str, ...]

    def __str__(self) -> str:
        got = "denied" if self.expected == "allowed" else "allowed"
        has_now = ", ".join(self.actual)
        return f"{self.path}: {self.capability} is {got}, expected {self.expected} (capabilities: {has_now})"


@dataclass(frozen=True)
class CheckResult:
    name: str
    differences: list[Difference] = field(default_factory=list)
    error: str = ""

    @property
    def passed(self) -> bool:
        return not self.differences and not self.error


def paths_of(check: Check) -> list[str]:
    return sorted({*check.allow, *check.deny})


def has(capabilities: Sequence[str], capability: str) -> bool:
    """Vault answers `root` for a root token (everything) and `deny` for nothing."""
    return "root" in capabilities or capability in capabilities


def compare(check: Check, reported: Mapping[str, Sequence[str]]) -> list[Difference]:
    """Every capability of `allow` the token lacks and every capability of `deny` it has, in file order."""
    found = []
    for expected, wanted, should in (("allowed", check.allow, True), ("denied", check.deny, False)):
        for path, capabilities in wanted.items():
            actual = tuple(reported.get(path) or ("deny",))
            found += [Difference(path, c, expected, actual) for c in capabilities if has(actual, c) != should]
    return found


def result_lines(results: Sequence[CheckResult]) -> list[Line]:
    lines: list[Line] = []
    for result in results:
        lines.append((f"{'ok  ' if result.passed else 'FAIL'}  {result.name}", "green" if result.passed else "red"))
        if result.error:
            lines.append((f"      {result.error}", "red"))
        lines += [(f"      {d}", "red") for d in result.differences]
    failed = sum(1 for r in results if not r.passed)
    summary = f"verify: {len(results) - failed} passed, {failed} failed"
    lines.append((summary, "bold red" if failed else "bold green"))
    return lines
