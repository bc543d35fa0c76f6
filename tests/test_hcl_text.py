"""The fast policy HCL parser answers exactly as pyhcl's `hcl.loads`, errors and line numbers included."""

from __future__ import annotations

import hcl
import pytest

from vault_state.spec.hcl_text import loads_hcl

TEXTS = [
    'path "a" { capabilities = ["read"] }',
    'path "a/*" {\n  capabilities = ["read", "list"]\n}\n\npath "b" {\n  capabilities = ["deny"]\n}\n',
    'path "s" {\n  capabilities = ["read"]\n  allowed_parameters = {\n    "a" = []\n  }\n}\n',
    '# comment\npath "a" { capabilities = ["read"] } /* multi\n */',
    'x = <<EOF\nhello\nEOF\n',
    '{"path": {"a": {"capabilities": ["read"]}}}',
    'path "x" {\n  capabilities = ["read"\n}',
    'path "unterminated { capabilities = ["read"] }',
    'x = <<EOF\nhello\n',
    'path "a" { capabilities = ["read"] }\n\n\n@',
]


def _outcome(parse: object, text: str) -> tuple[str, object]:
    try:
        return "ok", parse(text)  # type: ignore[operator]
    except Exception as exc:
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("text", TEXTS)
def test_same_answer_as_pyhcl_every_time(text: str) -> None:
    expected = _outcome(hcl.loads, text)
    assert _outcome(loads_hcl, text) == expected
    assert _outcome(loads_hcl, text) == expected  # the second parse comes from the cache


def test_cached_results_are_copies() -> None:
    loads_hcl(TEXTS[0])["path"]["a"]["capabilities"].append("delete")
    assert loads_hcl(TEXTS[0]) == {"path": {"a": {"capabilities": ["read"]}}}
