"""What a plan read besides the server: the state file's bytes and every value source it resolved.

A saved plan keeps digests of these, and apply reads them again to prove nothing changed since.
`RecordingResolver` resolves as `Resolver` does and remembers each `{env:}` / `{file:}` it read.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vault_state.desired import build_desired
from vault_state.errors import Diagnostic, InputError, Location
from vault_state.plan.model import Resource, ResourceId
from vault_state.sensitive import Sensitive
from vault_state.spec.loader import LoadedState
from vault_state.spec.many import load_states
from vault_state.spec.sources import Resolver
from vault_state.spec.types import EnvSource, FileSource


@dataclass(frozen=True)
class SourceRead:
    """One value source as resolved: where the file names it, what it is, and its value (kept secret).

    `stable` is False for a value minted anew on every read (a `{kubernetes: token}`): only its
    place in the file can be compared, never its value.
    """

    key: str
    label: str
    sensitive: bool
    value: Sensitive
    stable: bool = True


@dataclass
class RecordingResolver(Resolver):
    reads: list[SourceRead] = field(default_factory=list)

    def resolve(self, value: Any, loc: Sequence[str | int], *, secret: bool = False) -> str | Sensitive:
        result = super().resolve(value, loc, secret=secret)
        if not isinstance(value, str):
            text = result if isinstance(result, Sensitive) else Sensitive(result)
            key = ".".join(str(part) for part in loc)
            sensitive = secret or isinstance(result, Sensitive) or bool(getattr(value, "sensitive", True))
            stable = getattr(value, "kubernetes", None) != "token"
            self.reads.append(SourceRead(key, _label(value), sensitive, text, stable))
        return result


def _label(value: Any) -> str:
    if isinstance(value, EnvSource):
        return f"env {value.env}"
    if isinstance(value, FileSource):
        return f"file {value.file}"
    return f"kubernetes {getattr(value, 'kubernetes', '?')}"


@dataclass
class LocalInputs:
    """The loaded state file, its bytes, the desired snapshot and the value sources it resolved.

    From several files (`loaded.files`), `state_bytes` is empty and `file_bytes` holds each one's."""

    loaded: LoadedState
    state_bytes: bytes
    desired: dict[ResourceId, Resource]
    sources: list[SourceRead]
    file_bytes: dict[str, bytes] = field(default_factory=dict)


def read_local(
    path: Path | Sequence[str], env: Mapping[str, str], cluster: Callable[[], Any] | None = None,
    recursive: bool = False, overlays: Sequence[str] = (),
) -> LocalInputs:
    """Load `path` (or what several `-f` arguments name) and resolve its value sources.
    `overlays` are merged over it in order. Raises InputError for any problem."""
    loaded = load_states([str(path)] if isinstance(path, Path) else path, recursive, overlays)
    file_bytes = {str(p): _bytes(p) for p in loaded.files}
    state_bytes = b"" if loaded.files else _bytes(loaded.path)
    resolver = RecordingResolver(loaded.base_dir, env, loaded.source, cluster=cluster)
    desired = build_desired(loaded, env, resolver)
    return LocalInputs(loaded, state_bytes, desired, resolver.reads, file_bytes)


def _bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        problem = Diagnostic(Location(str(path), 1, 1), f"cannot read the state file: {exc.strerror}")
        raise InputError([problem]) from None
