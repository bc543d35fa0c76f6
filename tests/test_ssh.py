"""SSH engines against a real OpenBao server: the CA key is generated once and never again, roles
converge, comma-separated names compare as sets, otp roles keep their own fields."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, read, write_state

from vault_state.sandbox import DevServer

SSH = """
version: 1
secrets_engines:
  ssh:
    type: ssh
    ssh:
      ca: {{key_type: {key_type}}}
      roles:
        ops: {{key_type: ca, allow_user_certificates: true, allowed_users: "ops,deploy", default_user: ops,
               ttl: 30m, max_ttl: 8h}}
"""
OTP = """
version: 1
prune: {ssh_roles: true}
secrets_engines:
  ssh:
    type: ssh
    ssh:
      roles:
        otp: {key_type: otp, default_user: admin, allowed_users: [web, admin], cidr_list: "10.0.0.0/8, 192.168.0.0/16",
              exclude_cidr_list: [10.1.0.0/16], port: 2222}
"""


def applied(cli: Cli, path: str, *flags: str) -> str:
    result = cli("apply", "-f", path, "--auto-approve", *flags)
    assert result.code == 0, result.out + result.err
    return result.out


def assert_no_changes(cli: Cli, path: str) -> str:
    result = cli("plan", "-f", path, "--detailed-exitcode")
    assert result.code == 0 and "No changes." in result.out, result.out + result.err
    return result.out


def test_the_ca_is_generated_once_and_its_public_key_shown(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    path = str(write_state(tmp_path, SSH.format(key_type="ssh-ed25519")))
    out = applied(cli, path)
    public_key = read(bao, "ssh/config/ca")["public_key"].strip()
    assert public_key.startswith("ssh-ed25519 ")
    assert f"ssh_ca/ssh: public_key = {public_key}" in out, out
    planned = assert_no_changes(cli, path)
    assert "note: ssh_ca/ssh: the CA exists: its key was generated once and is not compared" in planned

    # Another key type in the file: the CA exists, so nothing is written (a write would add an issuer).
    other = str(write_state(tmp_path, SSH.format(key_type="ec"), name="other.yaml"))
    assert_no_changes(cli, other)
    applied(cli, other)
    assert read(bao, "ssh/config/ca")["public_key"].strip() == public_key
    assert len(bao.request("LIST", "ssh/issuers").json()["data"]["keys"]) == 1


def test_a_ca_role_compares_comma_separated_users_as_a_set(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    path = str(write_state(tmp_path, SSH.format(key_type="ssh-ed25519")))
    applied(cli, path)
    role = read(bao, "ssh/roles/ops")
    assert role["allowed_users"] == "deploy,ops" and (role["ttl"], role["max_ttl"]) == (1800, 28800)
    # Vault keeps the string as written: another order or a blank is the same set.
    assert bao.request("POST", "ssh/roles/ops", {**role, "allowed_users": "ops, deploy,ops"}).ok
    assert_no_changes(cli, path)
    assert bao.request("POST", "ssh/roles/ops", {**role, "allowed_users": "ops"}).ok
    assert '~ allowed_users: "ops" -> "deploy,ops"' in cli("plan", "-f", path).out


def test_an_otp_role_round_trips_and_is_pruned(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    path = str(write_state(tmp_path, OTP))
    applied(cli, path)
    role = read(bao, "ssh/roles/otp")
    assert role == {
        "key_type": "otp", "default_user": "admin", "allowed_users": "admin,web", "port": 2222,
        "cidr_list": "10.0.0.0/8,192.168.0.0/16", "exclude_cidr_list": "10.1.0.0/16",
    }
    assert_no_changes(cli, path)
    assert bao.request("POST", "ssh/roles/otp", {**role, "port": 22}).ok
    assert "~ port: 22 -> 2222" in cli("plan", "-f", path).out
    applied(cli, path)
    assert_no_changes(cli, path)

    assert bao.request("POST", "ssh/roles/stray", {"key_type": "otp", "default_user": "x"}).ok
    assert "- ssh_role/ssh/stray" in cli("plan", "-f", path).out
    applied(cli, path)  # an SSH role holds no data: deleting it needs no --allow-destroy
    assert bao.request("GET", "ssh/roles/stray").status_code == 404
