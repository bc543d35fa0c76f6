"""Hostile and broken state files: every input ends in a plan-able state or a located InputError, never
another exception; names that would escape their API path are refused at validate time."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from conftest import EXAMPLES, REVIEWER_JWT, Cli, write_state
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vault_state.errors import Diagnostic, InputError
from vault_state.inputs import read_local
from vault_state.plan.planner import plan as make_plan

BAD = Path(__file__).resolve().parent / "bad"
SEEDS = [(EXAMPLES / "state.yaml").read_text(), *(p.read_text() for p in sorted(BAD.glob("*.yaml")))]
ENV = {"TOKEN_REVIEWER_JWT": REVIEWER_JWT}
# Tried inputs, for docs/reliability.md (printed by the last test of this module).
TRIED = {"inputs": 0}
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def outcome(text: str) -> str:
    """'plan' or 'error', never an exception other than a located InputError."""
    TRIED["inputs"] += 1
    with tempfile.TemporaryDirectory() as directory:
        (Path(directory) / "ca.crt").write_text((EXAMPLES / "ca.crt").read_text())
        path = Path(directory) / "state.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogateescape")
        try:
            local = read_local(path, ENV)
        except InputError as exc:
            assert exc.diagnostics, "an InputError without a diagnostic"
            assert all(isinstance(d, Diagnostic) and d.location.line >= 1 for d in exc.diagnostics)
            assert all(str(d).startswith(f"{path}:") for d in exc.diagnostics), str(exc)
            return "error"
        make_plan(local.desired, {}, local.loaded.state.prune)
        return "plan"


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A seed file with a few random edits: characters inserted, deleted or replaced, lines swapped."""
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["insert", "delete", "replace", "swap"]))
        piece = draw(st.sampled_from([":", "-", " ", "\n", "  ", "{", "}", "[", "&a", "*a", "!!python/object", "'",
                                      '"', "0", "true", "null", "~", "\t", "../", "%2e%2e", "%2F", "\x00", "é"]))
        if edit == "insert":
            text = text[:where] + piece + text[where:]
        elif edit == "delete":
            text = text[:where] + text[where + draw(st.integers(1, 20)):]
        elif edit == "replace":
            text = text[:where] + piece + text[where + 1:]
        else:
            lines = text.splitlines(keepends=True)
            if len(lines) > 1:
                i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
                lines[i], lines[j] = lines[j], lines[i]
                text = "".join(lines)
    return text


names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=0, max_size=12)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), names)
documents = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(names, inner, max_size=3)), max_leaves=12)
sections = st.fixed_dictionaries({"version": st.sampled_from([1, 1, 2, "1"])}, optional={
    "secrets_engines": st.dictionaries(names, documents, max_size=3),
    "policies": st.dictionaries(names, st.one_of(names, documents), max_size=3),
    "auth_methods": st.dictionaries(names, documents, max_size=3),
    "prune": documents,
})


@SETTINGS
@given(mutated())
def test_mutated_files_plan_or_fail_located(text: str) -> None:
    assert outcome(text) in ("plan", "error")


@SETTINGS
@given(sections)
def test_random_documents_plan_or_fail_located(document: dict[str, object]) -> None:
    import json

    assert outcome(json.dumps(document)) in ("plan", "error")  # JSON is YAML


@pytest.mark.parametrize(("section", "name"), [
    ("policies", "../sys/seal"),
    ("policies", "%2e%2e"),
    ("policies", "a%2Fb"),
    ("policies", "a/b"),
    ("policies", ".."),
    ("secrets_engines", "sys/"),
    ("secrets_engines", "sys"),
    ("secrets_engines", "%2e%2e/sys"),
    ("secrets_engines", "kv%2F..%2Fsys"),
    ("secrets_engines", "/kv"),
    ("secrets_engines", "kv//x"),
    ("secrets_engines", "vault-state"),
])
def test_path_tricks_are_refused_at_validate_time(offline_cli: Cli, tmp_path: Path, section: str, name: str) -> None:
    body = ("'path \"x\" { capabilities = [\"read\"] }'" if section == "policies"
            else "{type: kv, version: 2}" if section == "secrets_engines" else "{type: approle}")
    state = write_state(tmp_path, f"version: 1\n{section}:\n  '{name}': {body}\n")
    result = offline_cli("validate", "-f", str(state))
    assert result.code == 1, (name, result.out)
    assert result.err.startswith(f"{state}:3:3: "), result.err
    assert "Traceback" not in result.err
