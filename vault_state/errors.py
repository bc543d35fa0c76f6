"""Problems, typed: located input diagnostics and runtime errors under one base class.

The CLI catches `VaultStateError` once and turns it into a message and an exit code; no other
exception is expected to reach the user.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """A 1-based position in an input file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    """One problem in the user's input, reported as `FILE:LINE:COL: message`."""

    location: Location
    message: str
    severity: Severity = Severity.ERROR
    rule: str = ""

    def __str__(self) -> str:
        prefix = "warning: " if self.severity is Severity.WARNING else ""
        rule = f" [{self.rule}]" if self.rule else ""
        return f"{self.location}: {prefix}{self.message}{rule}"

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by file, line and column, duplicates dropped."""
    unique = {(d.location, d.message, d.severity, d.rule): d for d in diagnostics}
    return sorted(unique.values(), key=lambda d: (d.location, d.message))


class VaultStateError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = 1


@dataclass
class InputError(VaultStateError):
    """The state file (or a value it points at) is invalid; carries every diagnostic found."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(d) for d in sort_diagnostics(self.diagnostics))


class VaultApiError(VaultStateError):
    """Vault answered an HTTP error. Names the method and path, never the request body."""

    def __init__(self, method: str, path: str, status: int, messages: list[str]) -> None:
        self.method = method
        self.path = path
        self.status = status
        self.messages = messages
        detail = "; ".join(messages) if messages else "no error message"
        super().__init__(f"{method} {path}: HTTP {status}: {detail}")


class VaultConnectionError(VaultStateError):
    """The server could not be reached (refused, reset, TLS failure, timeout)."""


class ConfigurationError(VaultStateError):
    """The connection settings (address, token, CA) are missing or unusable."""


class ApplyRefused(VaultStateError):
    """Apply stopped before changing anything (destroy guard, no confirmation)."""
