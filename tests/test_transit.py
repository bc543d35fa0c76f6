"""Transit keys against a real OpenBao server: what can never change is refused, what can only be
turned on is refused when turned off, deleting a key is guarded, server-owned fields are never compared."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, read, write_state

from vault_state.sandbox import DevServer

KEYS = """
version: 1
prune: {{transit_keys: {prune}}}
secrets_engines:
  transit:
    type: transit
    transit:
      keys:
        payments:
          type: {type}
          exportable: {exportable}
          auto_rotate_period: 720h
{extra}"""


def state(tmp_path: Path, type: str = "aes256-gcm96", exportable: str = "false", extra: str = "",
          prune: str = "false") -> str:
    text = KEYS.format(type=type, exportable=exportable, extra=extra, prune=prune)
    return str(write_state(tmp_path, text))


def applied(cli: Cli, path: str, *flags: str) -> None:
    result = cli("apply", "-f", path, "--auto-approve", *flags)
    assert result.code == 0, result.out + result.err


def assert_no_changes(cli: Cli, path: str) -> None:
    result = cli("plan", "-f", path, "--detailed-exitcode")
    assert result.code == 0 and "No changes." in result.out, result.out + result.err


def test_a_type_change_is_refused_even_with_allow_destroy(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    applied(cli, state(tmp_path))
    before = read(bao, "transit/keys/payments")
    changed = state(tmp_path, type="chacha20-poly1305")
    planned = cli("plan", "-f", changed)
    assert "-/+ transit_key/transit/payments" in planned.out
    assert "!! REFUSED: Vault cannot change a transit key's type" in planned.out, planned.out
    assert planned.code == 1  # a refused plan is an error: CI says so before anyone applies
    assert planned.err.startswith("error: this plan cannot be applied: transit_key/transit/payments is refused")
    result = cli("apply", "-f", changed, "--auto-approve", "--allow-destroy")
    assert result.code == 1
    assert "refused: " in result.err and "transit_key/transit/payments: Vault cannot change" in result.err
    assert "nothing was changed" in result.err
    assert read(bao, "transit/keys/payments") == before  # same type, same key versions


def test_exportable_turned_on_warns_and_turned_off_is_refused(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    applied(cli, state(tmp_path))
    on = state(tmp_path, exportable="true")
    planned = cli("plan", "-f", on)
    assert "~ transit_key/transit/payments" in planned.out
    assert "!! turns on exportable: this cannot be undone" in planned.out, planned.out
    applied(cli, on)
    assert read(bao, "transit/keys/payments")["exportable"] is True
    assert_no_changes(cli, on)

    off = state(tmp_path, exportable="false")
    planned = cli("plan", "-f", off)
    assert "!! REFUSED: exportable cannot be turned off" in planned.out, planned.out
    result = cli("apply", "-f", off, "--auto-approve", "--allow-destroy")
    assert result.code == 1 and "exportable cannot be turned off" in result.err
    assert read(bao, "transit/keys/payments")["exportable"] is True


def test_config_converges_and_server_owned_fields_are_not_compared(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    applied(cli, state(tmp_path))
    # Rotations change latest_version and the keys map: the server's, never compared.
    for _ in range(2):
        assert bao.request("POST", "transit/keys/payments/rotate").ok
    assert_no_changes(cli, state(tmp_path))
    versions = state(tmp_path, extra="          min_decryption_version: 2\n          min_encryption_version: 3\n")
    applied(cli, versions)
    key = read(bao, "transit/keys/payments")
    assert (key["min_decryption_version"], key["min_encryption_version"], key["latest_version"]) == (2, 3, 3)
    assert key["auto_rotate_period"] == 720 * 3600
    assert_no_changes(cli, versions)


def test_an_hmac_key_size_round_trips(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    path = state(tmp_path, type="hmac", extra="          key_size: 64\n")
    applied(cli, path)
    assert read(bao, "transit/keys/payments")["key_size"] == 64
    assert_no_changes(cli, path)
    larger = state(tmp_path, type="hmac", extra="          key_size: 128\n")
    assert "!! REFUSED: Vault cannot change a transit key's key_size" in cli("plan", "-f", larger).out


def test_deleting_a_key_needs_prune_and_allow_destroy(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    applied(cli, state(tmp_path))
    assert read(bao, "transit/keys/payments")["deletion_allowed"] is False
    empty = str(write_state(tmp_path, "version: 1\nprune: {transit_keys: true}\n"
                                      "secrets_engines:\n  transit: {type: transit, transit: {keys: {}}}\n"))
    planned = cli("plan", "-f", empty)
    assert "- transit_key/transit/payments" in planned.out
    assert "every ciphertext made with it becomes unreadable" in planned.out, planned.out
    refused = cli("apply", "-f", empty, "--auto-approve")
    assert refused.code == 1 and "pass --allow-destroy" in refused.err
    assert read(bao, "transit/keys/payments")["type"] == "aes256-gcm96"
    applied(cli, empty, "--allow-destroy")  # sets deletion_allowed first, as Vault requires
    assert bao.request("GET", "transit/keys/payments").status_code == 404
    assert_no_changes(cli, empty)


def test_without_prune_an_undeclared_key_stays(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    assert bao.request("POST", "sys/mounts/transit", {"type": "transit"}).ok
    assert bao.request("POST", "transit/keys/other", {"type": "ed25519"}).ok
    applied(cli, state(tmp_path))
    assert read(bao, "transit/keys/other")["type"] == "ed25519"
