"""The fast path of the loader: libyaml's C parser (ruamel.yaml.clib) composes a node tree, which
gives both the plain data and the positions, about ten times faster than the round-trip loader.

Anything out of the ordinary (a YAML error, a duplicate key, an alias, a merge key, a custom
tag) returns None, and the loader takes the round-trip path, whose messages are the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from vault_state.errors import Location
from vault_state.spec.positions import SourceMap

_STR = "tag:yaml.org,2002:str"
_PLAIN_TAGS = frozenset(
    {_STR, "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null"}
)


class _Unusual(Exception):
    """Leave the fast path."""


def compose_fast(text: str, name: str, max_nodes: int) -> tuple[Any, SourceMap] | None:
    """(plain data, source map) for ordinary YAML, or None to take the round-trip path."""
    yaml = YAML(typ="safe")
    try:
        root = yaml.compose(text)
    except (YAMLError, ValueError, TypeError, RecursionError):
        return None
    if root is None:
        return None
    builder = _Builder(yaml, max_nodes)
    try:
        data = builder.plain(root)
    except (_Unusual, RecursionError, YAMLError, ValueError, TypeError):
        return None
    return data, NodeSourceMap(name, root)


class _Builder:
    def __init__(self, yaml: YAML, max_nodes: int) -> None:
        self.constructor = yaml.constructor
        self.budget = max_nodes
        self.seen: set[int] = set()

    def plain(self, node: Node) -> Any:
        if id(node) in self.seen:  # an alias: the round-trip path bounds and reports those
            raise _Unusual
        self.seen.add(id(node))
        self.budget -= 1
        if self.budget < 0:
            raise _Unusual
        if isinstance(node, MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.plain(key_node)
                if not isinstance(key, str | int) or key in result:
                    raise _Unusual  # a duplicate or an odd key: the round-trip path names it
                result[key] = self.plain(value_node)
            return result
        if isinstance(node, SequenceNode):
            return [self.plain(item) for item in node.value]
        if node.tag not in _PLAIN_TAGS:
            raise _Unusual
        if node.tag == _STR:
            text = str(node.value)
            text.encode("utf-8")  # a lone surrogate escape raises: the round-trip path reports it
            return text
        return self.constructor.construct_object(node, deep=True)


class NodeSourceMap(SourceMap):
    """The same answers as SourceMap, read from composed nodes' start marks."""

    def __init__(self, file: str, root: Node) -> None:
        super().__init__(file, None)
        self.nodes = root
        self._index: dict[int, dict[Any, tuple[Node, Node]]] = {}

    def _child(self, node: Node, part: str | int) -> tuple[Node, Node] | None:
        """(key node or item node, value node) for one step of a path, or None when it is not there."""
        if isinstance(node, MappingNode):
            index = self._index.get(id(node))
            if index is None:  # one dict per mapping, so a lookup is O(1), not a scan of its keys
                index = self._index[id(node)] = {
                    _key_of(k): (k, v) for k, v in reversed(node.value) if isinstance(k, ScalarNode)
                }
            return index.get(part)
        if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            item: Node = node.value[part]
            return item, item
        return None

    def locate(self, loc: Sequence[str | int], *, key: bool = False) -> Location:
        node: Node = self.nodes
        line, column = 0, 0
        key_node: Node | None = None
        for index, part in enumerate(loc):
            is_last = index == len(loc) - 1
            if part == "[key]" and key_node is not None:
                line, column = key_node.start_mark.line, key_node.start_mark.column
                continue
            child = self._child(node, part)
            if child is None:
                continue
            key_node, node = child
            mark = key_node.start_mark if key and is_last else node.start_mark
            line, column = mark.line, mark.column
        return Location(self.file, line + 1, column + 1)

    def node(self, loc: Sequence[str | int]) -> Any:
        node: Node = self.nodes
        for part in loc:
            child = self._child(node, part)
            if child is not None:
                node = child[1]
        if isinstance(node, MappingNode):
            return {k.value: v for k, v in node.value if isinstance(k, ScalarNode)}
        return node.value

    def text_line(self, loc: Sequence[str | int], line_in_text: int) -> Location:
        start = self.locate(loc)
        node: Node = self.nodes
        for part in loc:
            child = self._child(node, part)
            if child is not None:
                node = child[1]
        block = isinstance(node, ScalarNode) and node.style in ("|", ">")
        offset = line_in_text if block else line_in_text - 1
        return Location(self.file, start.line + offset, start.column if not block else 1)


def _key_of(key_node: ScalarNode) -> Any:
    """A mapping key as the plain data has it (an int key stays an int)."""
    if key_node.tag == "tag:yaml.org,2002:int":
        try:
            return int(str(key_node.value), 0)
        except ValueError:
            return key_node.value
    return key_node.value
