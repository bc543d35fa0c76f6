"""The shipped examples are the first thing a user runs: they must be clean and agree with ESO."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from conftest import EXAMPLES, Cli, read
from pg_server import Postgres
from ruamel.yaml import YAML
from test_eso import documents, validate_manifest

from vault_state.sandbox import DevServer

STATE = EXAMPLES / "state.yaml"
STORE = """
external_secrets:
  server: https://vault.vault.svc:8200
  stores:
    - name: vault-backend
      secrets_engine: secret
      auth_method: kubernetes
      role: eso-role
      service_account: {name: external-secrets, namespace: external-secrets}
"""


def role_audience(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text())["auth_methods"]["kubernetes"]["roles"]["eso-role"]["audience"]


def test_the_guide_example_has_no_lint_warning(offline_cli: Cli) -> None:
    result = offline_cli("lint", "-f", str(STATE), "--strict")
    assert (result.code, result.out, result.err) == (0, "", f"{STATE}: no warnings\n")


def test_the_guide_example_plans_and_applies_without_a_warning(cli: Cli) -> None:
    for command in (["plan"], ["apply", "--auto-approve"], ["plan"]):
        result = cli(*command, "-f", str(STATE))
        assert (result.code, result.err) == (0, ""), result.out


def test_eso_requests_the_audience_the_example_role_accepts(offline_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_text((EXAMPLES / "ca.crt").read_text())
    (tmp_path / "state.yaml").write_text(STATE.read_text() + STORE)
    result = offline_cli("eso-manifests", "-f", str(tmp_path / "state.yaml"))
    assert (result.code, result.err) == (0, "")
    (store,) = documents(result.out)
    validate_manifest(store)
    account = store["spec"]["provider"]["vault"]["auth"]["kubernetes"]["serviceAccountRef"]
    assert account["audiences"] == [role_audience(STATE)] == ["vault"]


def test_the_eso_example_agrees_on_the_audience_too(offline_cli: Cli) -> None:
    result = offline_cli("eso-manifests", "-f", str(EXAMPLES / "eso.yaml"))
    assert (result.code, result.err) == (0, "")
    (store,) = documents(result.out)
    account = store["spec"]["provider"]["vault"]["auth"]["kubernetes"]["serviceAccountRef"]
    assert account["audiences"] == [role_audience(EXAMPLES / "eso.yaml")] == [role_audience(STATE)]


PLATFORM = EXAMPLES / "platform.yaml"


def test_the_platform_example_converges_and_each_engine_works(
    cli: Cli, bao: DevServer, postgres: Postgres, tmp_path: Path
) -> None:
    """examples/platform.yaml (PKI, transit, database, SSH) against a real OpenBao and PostgreSQL:
    applies, plans empty, and each engine does its job with what the file configured."""
    user, password = f"vault_{secrets.token_hex(4)}", "platform-pw-SECRET-" + secrets.token_hex(6)
    postgres.admin(f"CREATE ROLE {user} WITH LOGIN CREATEROLE PASSWORD '{password}'")
    postgres.admin(f"GRANT pg_read_all_data TO {user} WITH ADMIN OPTION")
    env = {"APP_PG_URL": postgres.url, "APP_PG_USER": user, "APP_PG_PASSWORD": password}
    lint = cli("lint", "-f", str(PLATFORM), "--strict")
    assert lint.code == 0, lint.out + lint.err
    applied = cli("apply", "-f", str(PLATFORM), "--auto-approve", env=env)
    assert applied.code == 0, applied.out + applied.err
    assert password not in applied.out + applied.err
    again = cli("plan", "-f", str(PLATFORM), "--detailed-exitcode", env=env)
    assert again.code == 0 and "No changes." in again.out, again.out + again.err

    cert = bao.request("POST", "pki/issue/web", {"common_name": "www.example.com"}).json()["data"]
    assert cert["certificate"].startswith("-----BEGIN CERTIFICATE-----")
    with pytest.raises(RuntimeError, match="400"):
        bao.request("POST", "pki/issue/web", {"common_name": "www.example.org"})
    sealed = bao.request("POST", "transit/encrypt/payments", {"plaintext": "aGVsbG8="}).json()["data"]
    assert sealed["ciphertext"].startswith("vault:v1:")
    creds = read(bao, "db/creds/readonly")
    assert postgres.can_log_in(creds["username"], creds["password"])
    assert read(bao, "ssh/config/ca")["public_key"].startswith("ssh-ed25519 ")
