"""TOTP keys against a real OpenBao server: a key cannot be updated, so a change re-creates it only
with --allow-destroy; its secret, URL and QR code are never printed."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, read, write_state

from vault_state.sandbox import DevServer

TOTP = """
version: 1
prune: {{totp_keys: true}}
secrets_engines:
  totp:
    type: totp
    totp:
      keys:
{keys}"""
ALICE = "        alice: {issuer: {issuer}, account_name: alice@example.com, period: 1m, digits: 8, exported: true}\n"


def state(tmp_path: Path, keys: str) -> str:
    return str(write_state(tmp_path, TOTP.format(keys=keys)))


def alice(issuer: str) -> str:
    return ALICE.replace("{issuer}", issuer)


def test_a_change_re_creates_the_key_only_with_allow_destroy(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    first = cli("apply", "-f", state(tmp_path, alice("Acme")), "--auto-approve")
    assert first.code == 0, first.err
    assert read(bao, "totp/keys/alice") == {
        "issuer": "Acme", "account_name": "alice@example.com", "period": 60, "algorithm": "SHA1", "digits": 8,
    }
    # Vault answered the create with the otpauth URL and a QR code (exported: true): never printed.
    assert "otpauth" not in first.out + first.err and "barcode" not in first.out + first.err
    code = bao.request("GET", "totp/code/alice").json()["data"]["code"]

    changed = state(tmp_path, alice("Example"))
    planned = cli("plan", "-f", changed)
    assert "-/+ totp_key/totp/alice" in planned.out
    assert "a new secret invalidates every enrolled device" in planned.out, planned.out
    refused = cli("apply", "-f", changed, "--auto-approve")
    assert refused.code == 1 and "pass --allow-destroy" in refused.err
    assert read(bao, "totp/keys/alice")["issuer"] == "Acme"
    assert bao.request("POST", "totp/code/alice", {"code": code}).json()["data"]["valid"] is True

    assert cli("apply", "-f", changed, "--auto-approve", "--allow-destroy").code == 0
    assert read(bao, "totp/keys/alice")["issuer"] == "Example"
    assert cli("plan", "-f", changed, "--detailed-exitcode").code == 0


def test_deleting_a_key_needs_allow_destroy(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    assert cli("apply", "-f", state(tmp_path, alice("Acme")), "--auto-approve").code == 0
    empty = state(tmp_path, "        {}\n")
    planned = cli("plan", "-f", empty)
    assert "every device enrolled with it stops working" in planned.out, planned.out
    assert cli("apply", "-f", empty, "--auto-approve").code == 1
    assert cli("apply", "-f", empty, "--auto-approve", "--allow-destroy").code == 0
    assert bao.request("GET", "totp/keys/alice").status_code == 404
