"""What a load read from disk besides the state files: policy files, `{file:}` value sources and the
`policy_files:` patterns, noted while a `recording()` block runs (`watch` polls them for changes).

Recording is per context (a ContextVar): the targets of a fleet, loaded on several threads at once,
each note into their own `Reads`. Outside a `recording()` block, noting costs nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Reads:
    """`files`: each file read (an absolute path, symlinks kept: a mounted ConfigMap swaps the link,
    not the file) and the sha256 of its bytes, None when it could not be read (it may appear later).
    `patterns`: each `policy_files:` pattern (its directory, the pattern) and the files it matched."""

    files: dict[Path, str | None] = field(default_factory=dict)
    patterns: dict[tuple[Path, str], tuple[Path, ...]] = field(default_factory=dict)


_current: ContextVar[Reads | None] = ContextVar("vault_state_reads", default=None)


@contextlib.contextmanager
def recording() -> Iterator[Reads]:
    """Note every file the loads in this block read (in this thread or context)."""
    reads = Reads()
    token = _current.set(reads)
    try:
        yield reads
    finally:
        _current.reset(token)


def note_file(path: Path) -> None:
    """A load read (or tried to read) `path`."""
    reads = _current.get()
    if reads is not None:
        absolute = path.absolute()
        reads.files[absolute] = file_digest(absolute)


def note_pattern(base: Path, pattern: str, matches: Sequence[Path]) -> None:
    """A `policy_files:` pattern, relative to `base`, matched `matches`."""
    reads = _current.get()
    if reads is not None:
        reads.patterns[base.absolute(), pattern] = tuple(sorted(p.absolute() for p in matches))


LIMIT = 1024 * 1024
"""Bytes hashed at most: a policy file or value source is refused above 1 MB anyway, and a file
named by mistake (a large log, an image) must not be read whole every second."""


def file_digest(path: Path) -> str | None:
    """The sha256 of the file's first LIMIT + 1 bytes and its size; None when it cannot be read."""
    try:
        with path.open("rb") as handle:
            hashed = hashlib.sha256(handle.read(LIMIT + 1))
            hashed.update(str(path.stat().st_size).encode())
    except OSError:
        return None
    return hashed.hexdigest()
