"""Value sources: a literal, `{env: NAME}`, `{file: PATH}` or `{kubernetes: ...}` resolved to a string or a Sensitive.

The only module that reads the environment or files on behalf of the state file; cluster values go
through `cluster` (connected on first use). Problems (unset variable, missing file, API refusal)
are collected as located Diagnostics, not raised one by one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vault_state.errors import Diagnostic, VaultStateError
from vault_state.sensitive import Sensitive
from vault_state.spec.reads import note_file
from vault_state.spec.types import EnvSource, FileSource, KubeCaSource, KubeTokenSource, SourceValue

if TYPE_CHECKING:  # only a type here: the planner imports this module and stays free of ruamel
    from vault_state.spec.positions import SourceMap

MAX_SOURCE_BYTES = 1024 * 1024


@dataclass
class Resolver:
    base_dir: Path
    env: Mapping[str, str]
    source: SourceMap
    diagnostics: list[Diagnostic] = field(default_factory=list)
    cluster: Callable[[], Any] | None = None
    """Returns a connected kube.cluster.Cluster (typed Any: the planner must not import kubernetes)."""

    def resolve(
        self,
        value: SourceValue,
        loc: Sequence[str | int],
        *,
        secret: bool = False,
    ) -> str | Sensitive:
        """The value as text; a Sensitive when the field is `secret`, the source is sensitive or the cluster."""
        if isinstance(value, str):
            return Sensitive(value) if secret else value
        if isinstance(value, KubeCaSource | KubeTokenSource):
            return self._read_cluster(value, loc)
        text = self._read_env(value, loc) if isinstance(value, EnvSource) else self._read_file(value, loc)
        return Sensitive(text) if (secret or value.sensitive) else text

    def _read_cluster(self, value: KubeCaSource | KubeTokenSource, loc: Sequence[str | int]) -> Sensitive:
        from vault_state.kube.values import read_value  # imports kubernetes: only when the file asks for it

        if self.cluster is None:  # connect as kubectl would, without --kube-context
            from vault_state.kube.settings import KubeSettings, connector

            self.cluster = connector(KubeSettings(self.env))
        try:
            return read_value(self.cluster(), value)
        except VaultStateError as exc:
            self._problem(loc, str(exc))
            return Sensitive("")

    def _read_env(self, value: EnvSource, loc: Sequence[str | int]) -> str:
        if value.env not in self.env:
            self._problem(loc, f"environment variable {value.env} is not set")
            return ""
        return self.env[value.env]

    def _read_file(self, value: FileSource, loc: Sequence[str | int]) -> str:
        path = ((self.source.base_dir_at(loc) or self.base_dir) / value.file).resolve()
        note_file((self.source.base_dir_at(loc) or self.base_dir) / value.file)  # watch polls it
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
