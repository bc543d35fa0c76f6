"""Pure parts of the access checks: the capability comparison and Vault's policy path match."""

from __future__ import annotations

import pytest

from vault_state.checks.compare import CheckResult, Difference, compare, result_lines
from vault_state.spec.access import Check
from vault_state.spec.access_checks import path_matches


def check(allow: dict[str, list[str]], deny: dict[str, list[str]]) -> Check:
    return Check.model_validate({"name": "c", "policies": ["p"], "allow": allow, "deny": deny})


@pytest.mark.parametrize(
    ("allow", "deny", "reported", "expected"),
    [
        ({"a": ["read"]}, {}, {"a": ["read", "list"]}, []),
        ({"a": ["read"]}, {}, {"a": ["deny"]}, [Difference("a", "read", "allowed", ("deny",))]),
        ({"a": ["read"]}, {}, {}, [Difference("a", "read", "allowed", ("deny",))]),
        ({}, {"a": ["update"]}, {"a": ["root"]}, [Difference("a", "update", "denied", ("root",))]),
        ({"a": ["read", "list"]}, {"a": ["delete"]}, {"a": ["read", "delete"]},
         [Difference("a", "list", "allowed", ("read", "delete")), Difference("a", "delete", "denied", ("read", "delete"))]),
    ],
)
def test_compare(allow: dict[str, list[str]], deny: dict[str, list[str]], reported: dict[str, list[str]],
                 expected: list[Difference]) -> None:
    assert compare(check(allow, deny), reported) == expected


def test_result_lines() -> None:
    results = [CheckResult("one"), CheckResult("two", [Difference("a", "read", "allowed", ("deny",))]),
               CheckResult("three", error="login refused")]
    assert [text for text, _ in result_lines(results)] == [
        "ok    one", "FAIL  two", "      a: read is denied, expected allowed (capabilities: deny)",
        "FAIL  three", "      login refused", "verify: 1 passed, 2 failed",
    ]


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("secret/metadata/*", "secret/metadata/x", True),
        ("secret/metadata/", "secret/metadata/x", False),
        ("secret/+/x", "secret/metadata/x", True),
        ("secret/data/*", "secret/metadata/x", False),
        ("secret/meta*", "secret/metadata/x", True),
        ("*", "secret/metadata/x", True),
        ("secret/+", "secret/metadata/x", False),
        ("secret/+/*", "secret/metadata/x", True),
    ],
)
def test_path_matches(pattern: str, path: str, matches: bool) -> None:
    assert path_matches(pattern, path) is matches
