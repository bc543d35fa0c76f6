"""Value sources: a literal, `{env: NAME}` or `{file: PATH}` resolved to a string or a Sensitive.

The only module that reads the environment or files on behalf of the state file. Problems
(unset variable, missing file) are collected as located Diagnostics, not raised one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from vault_state.errors import Diagnostic
from vault_state.sensitive import Sensitive
from vault_state.spec.types import EnvSource, FileSource

if TYPE_CHECKING:  # only a type here: the planner imports this module and stays free of ruamel
    from vault_state.spec.positions import SourceMap

MAX_SOURCE_BYTES = 1024 * 1024


@dataclass
class Resolver:
    base_dir: Path
    env: Mapping[str, str]
    source: SourceMap
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def resolve(
        self, value: str | EnvSource | FileSource, loc: Sequence[str | int], *, secret: bool = False
    ) -> str | Sensitive:
        """The value as text; a Sensitive when the field is `secret` or the source is sensitive."""
        if isinstance(value, str):
            return Sensitive(value) if secret else value
        text = self._read_env(value, loc) if isinstance(value, EnvSource) else self._read_file(value, loc)
        return Sensitive(text) if (secret or value.sensitive) else text

    def _read_env(self, value: EnvSource, loc: Sequence[str | int]) -> str:
        if value.env not in self.env:
            self._problem(loc, f"environment variable {value.env} is not set")
            return ""
        return self.env[value.env]

    def _read_file(self, value: FileSource, loc: Sequence[str | int]) -> str:
        path = (self.base_dir / value.file).resolve()
        try:
            if path.stat().st_size > MAX_SOURCE_BYTES:
                self._problem(loc, f"file {value.file} is larger than 1 MB")
                return ""
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._problem(loc, f"file {value.file} not found (looked at {path})")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            self._problem(loc, f"cannot read file {value.file}: {reason}")
        return ""

    def _problem(self, loc: Sequence[str | int], message: str) -> None:
        self.diagnostics.append(Diagnostic(self.source.locate(loc), message))
