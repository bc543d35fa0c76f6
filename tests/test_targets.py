"""Targeting: the pure selection over a Plan (tables), and plan/apply --target against a real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli, read, write_state

from vault_state.kinds.registry import BY_NAME
from vault_state.plan.model import Action, Change, Plan, Resource, ResourceId
from vault_state.plan.targets import TargetError, limit_to_targets, parse_target
from vault_state.sandbox import DevServer


def change(rid: str, action: Action = Action.CREATE, **values: object) -> Change:
    parsed = parse_target(rid)
    resource = Resource(parsed, dict(values))
    return Change(parsed, action, None if action is Action.CREATE else resource,
                  None if action is Action.DELETE else resource)


PLAN = Plan((
    change("secrets_engine/apps"),
    change("policy/a"),
    change("policy/b"),
    change("auth_method/k8s", Action.NOOP),
    change("auth_method/ci", Action.REPLACE),
    change("auth_role/k8s/app", token_policies=["a", "default"]),
    change("auth_role/ci/deploy", token_policies=["b"]),
    change("auth_role/k8s/old", Action.DELETE, token_policies=[]),
))


@pytest.mark.parametrize(("targets", "expected"), [
    (["policy/a"], ["policy/a"]),
    (["secrets_engine/apps", "policy/b"], ["secrets_engine/apps", "policy/b"]),
    (["auth_role/k8s/app"], ["policy/a", "auth_method/k8s", "auth_role/k8s/app"]),
    (["auth_method/k8s"], ["auth_method/k8s"]),
    (["auth_method/ci"], ["policy/b", "auth_method/ci", "auth_role/ci/deploy"]),  # a replace takes its roles
    (["auth_role/k8s/old"], ["auth_method/k8s", "auth_role/k8s/old"]),
])
def test_targets_and_what_they_need(targets: list[str], expected: list[str]) -> None:
    limited = limit_to_targets(PLAN, [parse_target(t) for t in targets])
    assert [str(c.id) for c in limited.changes] == expected


def test_unknown_and_malformed_targets() -> None:
    with pytest.raises(TargetError) as unknown:
        limit_to_targets(PLAN, [ResourceId("policy", "nope"), ResourceId("policy", "a")])
    assert str(unknown.value) == (
        "unknown --target policy/nope: not in the state file nor pruned from the server "
        "(use the ids `plan` prints, e.g. policy/eso-policy, auth_role/kubernetes/eso-role)"
    )
    for text in ("policy", "polcy/a", "policy/", "/a"):
        with pytest.raises(TargetError) as bad:
            parse_target(text)
        assert str(bad.value) == (
            f"invalid --target {text!r}: expected KIND/PATH or NAMESPACE:KIND/PATH or NAMESPACE:*, with KIND one of "
            f"{', '.join(BY_NAME)}"  # every kind, in apply order, from the registry
        )


STATE = """
version: 1
secrets_engines:
  apps: {type: kv, version: 2}
policies:
  reader: 'path "apps/data/*" { capabilities = ["read"] }'
  writer: 'path "apps/data/*" { capabilities = ["create"] }'
auth_methods:
  ci:
    type: approle
    roles:
      deploy: {token_policies: [reader]}
      other: {token_policies: [writer]}
"""


def test_apply_target_changes_only_the_target_and_its_dependencies(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    plan = cli("plan", "-f", state, "--target", "auth_role/ci/deploy")
    assert plan.code == 0
    assert plan.out.startswith(
        "Stack: default (no inventory yet)\nwarning: --target in effect: only auth_role/ci/deploy and the objects they need are planned; "
        "run without --target to see every change\n"
    )
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in plan.out
    result = cli("apply", "-f", state, "--target", "auth_role/ci/deploy", "--auto-approve")
    assert result.code == 0, result.err
    assert read(bao, "auth/ci/role/deploy")["token_policies"] == ["reader"]
    assert bao.request("GET", "sys/policies/acl/writer").status_code == 404
    assert bao.request("GET", "auth/ci/role/other").status_code == 404
    assert "apps/" not in bao.request("GET", "sys/mounts").json()["data"]
    rest = cli("plan", "-f", state)
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in rest.out


def test_unknown_target_is_an_error(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    result = cli("apply", "-f", state, "--target", "policy/nope", "--auto-approve")
    assert result.code == 1
    assert result.err.strip() == (
        "error: unknown --target policy/nope: not in the state file nor pruned from the server "
        "(use the ids `plan` prints, e.g. policy/eso-policy, auth_role/kubernetes/eso-role)"
    )
    assert bao.request("GET", "sys/policies/acl/reader").status_code == 404


def test_saved_plan_keeps_its_targets(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    planfile = str(tmp_path / "plan.json")
    assert cli("plan", "-f", state, "--target", "policy/writer", "-o", planfile).code == 0
    result = cli("apply", planfile)
    assert result.code == 0, result.err
    assert "Apply complete! Resources: 1 added, 0 changed, 0 destroyed." in result.out
    assert bao.request("GET", "sys/policies/acl/reader").status_code == 404
