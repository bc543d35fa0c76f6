"""Audit devices (both OpenBao modes), password policies, CORS and quotas against real servers:
the behaviours the field round trip does not show (refusals, warnings, Vault's own quirks)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, read

from vault_state.sandbox import DevServer

API_AUDIT = "unsafe_allow_api_audit_creation = true\n"
CONFIG_DEVICE = """
audit "file" "cfg" {
  description = "from config"
  options {
    file_path = "/dev/null"
    log_raw = "true"
  }
}
"""
CFG = {"type": "file", "description": "from config", "options": {"file_path": "/dev/null", "log_raw": "true"}}
POLICY = 'length = 24\nrule "charset" {\n  charset = "abcdefghjk"\n  min-chars = 2\n}\nrule "charset" {\n  charset = "23456789"\n  min-chars = 3\n}\n'


def server(config: str) -> Iterator[DevServer]:
    bao = DevServer(config_hcl=config).start()
    try:
        yield bao
    finally:
        bao.stop()


@pytest.fixture
def api_bao() -> Iterator[DevServer]:
    """A server whose configuration lets the API enable audit devices (HashiCorp Vault's way)."""
    yield from server(API_AUDIT)


@pytest.fixture
def config_bao() -> Iterator[DevServer]:
    """OpenBao's default: devices only in the configuration file; one declared there."""
    yield from server(CONFIG_DEVICE)


@pytest.fixture
def mixed_bao() -> Iterator[DevServer]:
    """The API may enable devices, and the configuration file declares one too."""
    yield from server(API_AUDIT + CONFIG_DEVICE)


def on(bao: DevServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return Cli(capsys, monkeypatch, bao)


def state(tmp_path: Path, **sections: Any) -> Path:
    path = tmp_path / "state.yaml"
    path.write_text(json.dumps({"version": 1, **sections}, indent=1))
    return path


def device(tmp_path: Path, name: str, **options: str) -> dict[str, Any]:
    return {"type": "file", "options": {"file_path": str(tmp_path / f"{name}.log"), **options}}


def test_changing_an_audit_device_replaces_it_and_warns_of_the_fresh_salt(
    api_bao: DevServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli = on(api_bao, capsys, monkeypatch)
    assert cli("apply", "-f", str(state(tmp_path, audit_devices={"a": device(tmp_path, "a")})), "--auto-approve").code == 0
    changed = state(tmp_path, audit_devices={"a": device(tmp_path, "a", log_raw="true")})
    planned = cli("plan", "-f", str(changed))
    assert "-/+ audit_device/a" in planned.out, planned.out
    assert "+ options.log_raw: \"true\"" in planned.out or "options.log_raw" in planned.out
    assert "fresh HMAC salt" in planned.out
    applied = cli("apply", "-f", str(changed), "--auto-approve")  # no data lost: no --allow-destroy
    assert applied.code == 0, applied.out + applied.err
    assert read(api_bao, "sys/audit")["a/"]["options"]["log_raw"] == "true"


def test_disabling_the_last_audit_device_is_a_loud_warning_and_one_of_two_is_not(
    api_bao: DevServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli = on(api_bao, capsys, monkeypatch)
    two = {"a": device(tmp_path, "a"), "b": device(tmp_path, "b")}
    assert cli("apply", "-f", str(state(tmp_path, audit_devices=two)), "--auto-approve").code == 0
    one_left = cli("plan", "-f", str(state(tmp_path, audit_devices={"a": two["a"]}, prune={"audit_devices": True})))
    assert "- audit_device/b" in one_left.out and "LAST AUDIT DEVICE" not in one_left.out, one_left.out
    none_left = state(tmp_path, prune={"audit_devices": True})
    planned = cli("plan", "-f", str(none_left))
    assert planned.out.count("THIS DISABLES THE LAST AUDIT DEVICE") == 2, planned.out
    assert cli("apply", "-f", str(none_left), "--auto-approve").code == 0
    assert read(api_bao, "sys/audit") == {}


def test_config_only_server_compares_devices_and_refuses_to_write_them(
    config_bao: DevServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli = on(config_bao, capsys, monkeypatch)
    same = state(tmp_path, audit_devices={"cfg": CFG}, prune={"audit_devices": True})
    planned = cli("plan", "-f", str(same), "--detailed-exitcode")
    assert planned.code == 0 and "No changes." in planned.out, planned.out + planned.err

    other = state(tmp_path, audit_devices={"cfg": {**CFG, "description": "edited"}, "new": device(tmp_path, "new")},
                  policies={"p": 'path "x" {\n  capabilities = ["read"]\n}\n'})
    planned = cli("plan", "-f", str(other), "--detailed-exitcode")
    assert planned.code == 1, planned.out + planned.err  # refused changes: the plan cannot be applied
    assert "~ audit_device/cfg" in planned.out and "+ audit_device/new" in planned.out, planned.out
    assert planned.out.count("REFUSED: managed by the server's configuration file") == 2, planned.out
    applied = cli("apply", "-f", str(other), "--auto-approve")
    assert applied.code == 1
    assert "audit_device/new: managed by the server's configuration file" in applied.err, applied.err
    assert read(config_bao, "sys/audit")["cfg/"]["description"] == "from config"
    assert read(config_bao, "sys/policies/acl/p") == {}  # nothing at all was written

    pruned = cli("plan", "-f", str(state(tmp_path, prune={"audit_devices": True})), "--detailed-exitcode")
    assert pruned.code == 0, pruned.out  # a device of the configuration file is never deleted


def test_api_server_leaves_the_devices_of_its_configuration_file_alone(
    mixed_bao: DevServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli = on(mixed_bao, capsys, monkeypatch)
    mine = state(tmp_path, audit_devices={"a": device(tmp_path, "a")}, prune={"audit_devices": True})
    applied = cli("apply", "-f", str(mine), "--auto-approve")
    assert applied.code == 0, applied.out + applied.err
    assert set(read(mixed_bao, "sys/audit")) == {"a/", "cfg/"}
    assert cli("plan", "-f", str(mine), "--detailed-exitcode").code == 0
    changed = state(tmp_path, audit_devices={"a": device(tmp_path, "a"), "cfg": {**CFG, "local": True}})
    assert "REFUSED: managed by the server's configuration file" in cli("plan", "-f", str(changed)).out


def test_cors_is_disabled_by_a_delete(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """OpenBao answers 500 to a write of enabled=false: disabling is sys/config/cors DELETE."""
    enabled = {"enabled": True, "allowed_origins": ["https://ui.example"]}
    assert cli("apply", "-f", str(state(tmp_path, sys_config={"cors": enabled})), "--auto-approve").code == 0
    with pytest.raises(RuntimeError, match="500"):
        bao.request("POST", "sys/config/cors", {"enabled": False})
    disabled = state(tmp_path, sys_config={"cors": {"enabled": False}})
    applied = cli("apply", "-f", str(disabled), "--auto-approve")
    assert applied.code == 0, applied.out + applied.err
    assert read(bao, "sys/config/cors") == {"enabled": False}


def test_each_password_policy_generates_a_password(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    policies = {"strong": POLICY, "pin": {"policy": 'length = 6\nrule "charset" {\n  charset = "0123456789"\n}\n'}}
    assert cli("apply", "-f", str(state(tmp_path, password_policies=policies)), "--auto-approve").code == 0
    strong = read(bao, "sys/policies/password/strong/generate")["password"]
    assert len(strong) == 24 and set(strong) <= set("abcdefghjk23456789")
    assert sum(c.isdigit() for c in strong) >= 3
    assert read(bao, "sys/policies/password/pin/generate")["password"].isdigit()


def test_a_quota_on_a_mount_the_same_apply_creates(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """Quotas are applied after mounts: Vault refuses a quota whose path is not a mount yet."""
    path = state(tmp_path, secrets_engines={"kv": {"type": "kv", "version": 2}},
                 quotas={"rate_limit": {"kv": {"path": "kv/", "rate": 500}}})
    applied = cli("apply", "-f", str(path), "--auto-approve")
    assert applied.code == 0, applied.out + applied.err
    assert read(bao, "sys/quotas/rate-limit/kv")["path"] == "kv/"
    assert cli("plan", "-f", str(path), "--detailed-exitcode").code == 0


def test_export_of_a_config_only_server_holds_its_devices_and_plans_empty(
    config_bao: DevServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli = on(config_bao, capsys, monkeypatch)
    exported = cli("export")
    assert exported.code == 0, exported.err
    assert "audit_devices:\n  cfg:\n    type: file\n    description: from config\n" in exported.out, exported.out
    copy = tmp_path / "exported.yaml"
    copy.write_text(exported.out)
    planned = cli("plan", "-f", str(copy), "--detailed-exitcode")
    assert planned.code == 0, planned.out + planned.err
