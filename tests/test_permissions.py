"""A token without enough permissions: one clear message naming every forbidden path, never a traceback."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, write_state

from vault_state.sandbox import DevServer

STATE = """
version: 1
secrets_engines:
  kv: {type: kv, version: 2}
policies:
  reader: 'path "kv/data/*" { capabilities = ["read"] }'
auth_methods:
  approle:
    type: approle
    roles:
      ci: {token_policies: [reader]}
"""

# May see the mounts and list policies, but read no policy and nothing about auth methods.
PARTIAL = """
path "sys/mounts" { capabilities = ["read"] }
path "sys/mounts/*" { capabilities = ["read"] }
path "sys/policies/acl" { capabilities = ["list"] }
path "kv/config" { capabilities = ["read"] }
path "sys/mounts/vault-state" { capabilities = ["update"] }
path "vault-state/data/lock" { capabilities = ["create", "read", "update"] }
"""


def partial_token(bao: DevServer) -> str:
    bao.request("POST", "sys/policies/acl/partial", {"policy": PARTIAL})
    bao.request("POST", "sys/policies/acl/reader", {"policy": 'path "kv/data/*" { capabilities = ["read"] }'})
    response = bao.request("POST", "auth/token/create", {"policies": ["partial"], "no_default_policy": True})
    return str(response.json()["auth"]["client_token"])


def test_plan_names_every_forbidden_path(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    token = partial_token(bao)
    for command in (["plan"], ["apply", "--auto-approve"], ["plan", "--json"]):
        result = cli(*command, "-f", state, env={"VAULT_TOKEN": token})
        assert result.code == 1, result
        assert result.err == (
            "error: permission denied: the token may not read 2 paths that vault-state needs:\n"
            "  GET sys/auth\n"
            "  GET sys/policies/acl/reader\n"
            "Give the token's policy read (and list) capability on them, or use another token.\n"
        ), command
        assert "Traceback" not in result.err
    assert "approle/" not in bao.request("GET", "sys/auth").json()["data"]  # apply changed nothing


def test_an_invalid_token_lists_what_it_could_not_read(cli: Cli, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    result = cli("plan", "-f", state, env={"VAULT_TOKEN": "not-a-token"})
    assert result.code == 1
    assert result.err.startswith("error: permission denied: the token may not read 3 paths that vault-state needs:\n")
