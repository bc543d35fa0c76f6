"""The loader's fast path (libyaml nodes) gives the same data and positions as the round-trip path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from vault_state.spec.fastyaml import NodeSourceMap, compose_fast
from vault_state.spec.loader import MAX_NODES, _load_round_trip, load_text

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*ROOT.glob("examples/*.yaml"), *ROOT.glob("tests/lint/*.yaml")])


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _paths(value, (*prefix, index))


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_fast_path_matches_round_trip(path: Path) -> None:
    text = path.read_text()
    fast = compose_fast(text, str(path), MAX_NODES)
    assert fast is not None, "an ordinary file should take the fast path"
    data, source = fast
    reference_data, reference = _load_round_trip(text, str(path))
    assert data == reference_data
    for loc in _paths(data):
        assert source.locate(loc) == reference.locate(loc), loc
        if loc:
            assert source.locate(loc, key=True) == reference.locate(loc, key=True), loc
            assert source.text_line(loc, 2) == reference.text_line(loc, 2), loc


@pytest.mark.parametrize(
    "text",
    [
        "version: 1\npolicies:\n  a: x\n  a: y\n",  # duplicate key
        "base: &b {type: kv, version: 2}\nversion: 1\nsecrets_engines:\n  x: *b\n",  # alias
        "version: 1\nsecrets_engines:\n  x:\n    <<: {type: kv}\n    version: 2\n",  # merge key
        "version: 1\npolicies: {a: !custom x}\n",  # custom tag
        "version: 1\npolicies: [\n",  # a syntax error
    ],
)
def test_unusual_files_take_the_round_trip_path(text: str) -> None:
    assert compose_fast(text, "s.yaml", MAX_NODES) is None


def test_a_normal_load_uses_the_fast_path() -> None:
    loaded = load_text((ROOT / "examples" / "state.yaml").read_text(), "state.yaml")
    assert isinstance(loaded.source, NodeSourceMap)
