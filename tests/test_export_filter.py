"""`export --include/--exclude KIND[/GLOB]`: the pure selection (tables) and the command on a real server."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import Cli
from ruamel.yaml import YAML

from vault_state.export_filter import PatternError, parse_pattern, select
from vault_state.kinds.registry import BY_NAME
from vault_state.plan.model import Resource, ResourceId
from vault_state.sandbox import DevServer

IDS = ["secrets_engine/apps", "secrets_engine/team-a", "policy/default", "policy/team-a-read",
       "auth_method/k8s", "auth_method/ci", "auth_role/k8s/app", "auth_role/k8s/team-a", "auth_role/ci/deploy"]
LIVE = {rid: Resource(rid, {}) for rid in (ResourceId(*i.split("/", 1)) for i in IDS)}


@pytest.mark.parametrize(("include", "exclude", "expected"), [
    ([], [], IDS),
    (["policy"], [], ["policy/default", "policy/team-a-read"]),
    (["policy/team-*", "secrets_engine/team-*"], [], ["policy/team-a-read", "secrets_engine/team-a"]),
    ([], ["policy/default", "auth_method"], ["policy/team-a-read", "secrets_engine/apps", "secrets_engine/team-a"]),
    (["auth_role/k8s/*"], [], ["auth_method/k8s", "auth_role/k8s/app", "auth_role/k8s/team-a"]),  # role keeps its method
    (["auth_method/k8s"], [], ["auth_method/k8s"]),
    (["auth_method", "auth_role"], ["auth_role/*/team-*"],
     ["auth_method/ci", "auth_method/k8s", "auth_role/ci/deploy", "auth_role/k8s/app"]),
])
def test_select(include: list[str], exclude: list[str], expected: list[str]) -> None:
    chosen = select(LIVE, [parse_pattern(p, "--include") for p in include],
                    [parse_pattern(p, "--exclude") for p in exclude])
    assert sorted(str(rid) for rid in chosen) == sorted(expected)


def test_bad_pattern() -> None:
    with pytest.raises(PatternError) as bad:
        parse_pattern("policies/*", "--include")
    assert str(bad.value) == (
        "invalid --include 'policies/*': expected KIND or KIND/GLOB, with KIND one of "
        f"{', '.join(BY_NAME)}"  # every kind, in apply order, from the registry
    )


def test_export_include_exclude(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    bao.request("POST", "sys/mounts/apps", {"type": "kv", "options": {"version": "2"}})
    bao.request("PUT", "sys/policies/acl/team-a-read", {"policy": 'path "apps/data/a/*" { capabilities = ["read"] }'})
    bao.request("POST", "sys/auth/ci", {"type": "approle"})
    bao.request("POST", "auth/ci/role/deploy", {"token_policies": ["team-a-read"]})
    bao.request("POST", "auth/ci/role/other", {"token_ttl": "1h"})
    result = cli("export", "--include", "policy/team-*", "--include", "auth_role/ci/deploy")
    assert result.code == 0, result.err
    data = YAML(typ="safe").load(result.out)
    assert data["policies"] == {"team-a-read": 'path "apps/data/a/*" { capabilities = ["read"] }\n'}
    assert data["auth_methods"] == {"ci": {"type": "approle", "roles": {"deploy": {"token_policies": ["team-a-read"]}}}}
    assert "secrets_engines" not in data
    out = tmp_path / "state.yaml"
    result = cli("export", "-o", str(out), "--exclude", "policy/default", "--exclude", "auth_method")
    assert result.code == 0, result.err
    data = YAML(typ="safe").load(out.read_text())
    assert set(data) == {"version", "secrets_engines", "policies"} and set(data["policies"]) == {"team-a-read"}
    bad = cli("export", "--exclude", "roles")
    assert bad.code == 1 and bad.err.startswith("error: invalid --exclude 'roles': expected KIND or KIND/GLOB")
