"""Where a value sits in the YAML file: ruamel.yaml's line/column marks, walked by a pydantic `loc`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from vault_state.errors import Location


class SourceMap:
    """Maps a path of keys and indexes (a pydantic `loc`) to a `Location` in one file."""

    def __init__(self, file: str, root: Any) -> None:
        self.file = file
        self.root = root

    def locate(self, loc: Sequence[str | int], *, key: bool = False) -> Location:
        """The position of the value at `loc` (or of its key, with key=True).

        Parts of `loc` that are not in the tree (pydantic's union tags, `[key]`) are skipped, so the
        deepest real node on the path is named.
        """
        node, line, column = self.root, 0, 0
        parent: CommentedMap | None = None
        last_key: Any = None
        for index, part in enumerate(loc):
            is_last = index == len(loc) - 1
            if part == "[key]" and parent is not None:
                line, column = parent.lc.key(last_key)
            elif isinstance(node, CommentedMap) and part in node:
                line, column = node.lc.key(part) if key and is_last else node.lc.value(part)
                parent, last_key, node = node, part, node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line, column = node.lc.item(part)
                parent, node = None, node[part]
        return Location(self.file, line + 1, column + 1)

    def node(self, loc: Sequence[str | int]) -> Any:
        node = self.root
        for part in loc:
            if isinstance(node, CommentedMap | CommentedSeq) and _has(node, part):
                node = node[part]
        return node

    def text_line(self, loc: Sequence[str | int], line_in_text: int) -> Location:
        """The file position of line `line_in_text` (1-based) of the multi-line string at `loc`."""
        start = self.locate(loc)
        block = isinstance(self.node(loc), LiteralScalarString | FoldedScalarString)
        offset = line_in_text if block else line_in_text - 1
        return Location(self.file, start.line + offset, start.column if not block else 1)

    def base_dir_at(self, loc: Sequence[str | int]) -> Path | None:
        """The directory `{file:}` sources at `loc` are relative to, when it is not the state's own
        (an object from one of several files); None: the state's."""
        return None


def _has(node: CommentedMap | CommentedSeq, part: str | int) -> bool:
    if isinstance(node, CommentedMap):
        return part in node
    return isinstance(part, int) and 0 <= part < len(node)


class PrefixedSource(SourceMap):
    """The SourceMap of a part of the file (a namespace's sections): `loc`s are relative to `prefix`.
    Wraps any SourceMap (the round-trip loader's or the fast loader's)."""

    def __init__(self, source: SourceMap, prefix: Sequence[str | int]) -> None:
        super().__init__(source.file, source.root)
        self.inner, self.prefix = source, tuple(prefix)

    def locate(self, loc: Sequence[str | int], *, key: bool = False) -> Location:
        return self.inner.locate((*self.prefix, *loc), key=key)

    def node(self, loc: Sequence[str | int]) -> Any:
        return self.inner.node((*self.prefix, *loc))

    def text_line(self, loc: Sequence[str | int], line_in_text: int) -> Location:
        return self.inner.text_line((*self.prefix, *loc), line_in_text)

    def base_dir_at(self, loc: Sequence[str | int]) -> Path | None:
        return self.inner.base_dir_at((*self.prefix, *loc))
