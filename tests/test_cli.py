"""The command line against a real server: exit codes, confirmation, connection errors, failed applies."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Cli, write_state

from vault_state.sandbox import DevServer, free_port

SIMPLE = """
version: 1
policies:
  reader: 'path "kv/data/*" { capabilities = ["read"] }'
"""


def test_exit_codes(cli: Cli, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE))
    assert cli("plan", "-f", state).code == 0
    assert cli("plan", "-f", state, "--detailed-exitcode").code == 2
    assert cli("apply", "-f", state, "--auto-approve").code == 0
    assert cli("plan", "-f", state, "--detailed-exitcode").code == 0
    assert cli("plan", "-f", str(tmp_path / "missing.yaml")).code == 1


def test_global_flags_before_or_after_the_command(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE))
    wrong = {"VAULT_ADDR": f"http://127.0.0.1:{free_port()}", "VAULT_TOKEN": "wrong"}
    before = cli("--address", bao.address, "--token", bao.token, "-f", state, "plan", env=wrong)
    after = cli("plan", "-f", state, "--address", bao.address, "--token", bao.token, env=wrong)
    assert before.code == after.code == 0
    assert before.out == after.out and "+ policy/reader" in before.out


def test_bao_variables_are_honoured(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE))
    env = {"BAO_ADDR": bao.address, "BAO_TOKEN": bao.token, "VAULT_ADDR": "", "VAULT_TOKEN": ""}
    assert cli("plan", "-f", state, env=env).code == 0


def test_apply_refuses_without_confirmation_on_a_non_tty(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE))
    result = cli("apply", "-f", state)
    assert result.code == 1
    assert "stdin is not a terminal; pass --auto-approve" in result.err
    assert bao.request("GET", "sys/policies/acl/reader").status_code == 404


def test_unreachable_server_is_a_clear_error(offline_cli: Cli, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE))
    address = f"http://127.0.0.1:{free_port()}"
    result = offline_cli("plan", "-f", state, env={"VAULT_ADDR": address, "VAULT_TOKEN": "t"})
    assert result.code == 1
    assert result.err.strip() == f"error: cannot reach {address}: connection refused"


def test_missing_address_and_token(offline_cli: Cli, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE))
    no_addr = offline_cli("plan", "-f", state)
    assert no_addr.code == 1 and "no server address: set VAULT_ADDR" in no_addr.err
    no_token = offline_cli("plan", "-f", state, env={"VAULT_ADDR": "http://127.0.0.1:1"})
    assert no_token.code == 1 and "no token: set VAULT_TOKEN" in no_token.err


def test_forbidden_token_names_method_and_path(cli: Cli, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE))
    result = cli("plan", "-f", state, env={"VAULT_TOKEN": "not-a-token"})
    assert result.code == 1
    assert result.err.strip() == (
        "error: permission denied: the token may not read 1 path that vault-state needs:\n  LIST sys/policies/acl\n"
        "Give the token's policy read (and list) capability on them, or use another token."
    )
    assert "Traceback" not in result.err


def test_missing_env_source_is_located(cli: Cli, tmp_path: Path) -> None:
    path = write_state(
        tmp_path,
        "version: 1\nauth_methods:\n  k8s:\n    type: kubernetes\n    config:\n"
        "      kubernetes_host: https://k\n      kubernetes_ca_cert: {file: nope.crt}\n"
        "      token_reviewer_jwt: {env: NO_SUCH_VARIABLE}\n",
    )
    result = cli("plan", "-f", str(path))
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{path}:7:27: file nope.crt not found (looked at {tmp_path / 'nope.crt'})",
        f"{path}:8:27: environment variable NO_SUCH_VARIABLE is not set",
    ]


FAILING = """
version: 1
policies:
  a-first: 'path "a" { capabilities = ["read"] }'
auth_methods:
  short:
    type: approle
    tune: {max_lease_ttl: 1h}
    roles:
      bad:
        token_type: batch
        token_period: 24h
      good:
        token_ttl: 30m
"""


def test_failed_apply_reports_and_rerun_converges(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, FAILING)
    # One change at a time, so `good` (same stage as `bad`) is never started; see test_parallel.py.
    result = cli("apply", "-f", str(state), "--auto-approve", "--parallelism", "1")
    assert result.code == 1
    assert "  applied  policy/a-first" in result.out
    assert "  applied  auth_method/short" in result.out
    assert "  FAILED   auth_role/short/bad: POST auth/short/role/bad: HTTP 400: 'token_type' cannot be 'batch'" in result.out
    assert "  pending  auth_role/short/good (not applied)" in result.out
    assert "2 applied, 1 failed, 1 not applied" in result.err
    state.write_text(FAILING.replace("token_type: batch", "token_type: service"))
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    assert cli("plan", "-f", str(state), "--detailed-exitcode").code == 0


def test_vault_warnings_are_surfaced(cli: Cli, tmp_path: Path) -> None:
    state = write_state(tmp_path, FAILING.replace("token_type: batch\n        token_period: 24h", "token_max_ttl: 4h"))
    result = cli("apply", "-f", str(state), "--auto-approve")
    assert result.code == 0, result.err
    assert "warning: auth_role/short/bad: Vault says: token_max_ttl is greater than the backend mount's maximum TTL value" in result.err


def test_plan_json_document(cli: Cli, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, SIMPLE))
    document = json.loads(cli("plan", "-f", state, "--json").out)
    assert document["format_version"] == "1"
    assert document["summary"] == {"add": 1, "change": 0, "destroy": 0}
    (change,) = document["changes"]
    assert change["id"] == "policy/reader" and change["action"] == "create" and change["kind"] == "policy"
    assert change["after"] == {"policy": 'path "kv/data/*" { capabilities = ["read"] }\n'}
    cli("apply", "-f", state, "--auto-approve")
    again = json.loads(cli("plan", "-f", state, "--json").out)
    assert [c["action"] for c in again["changes"]] == ["no-op"]
