"""Every duration field, with values of a day or more, against a real OpenBao server.

Vault's duration parser takes `d` only alone (`7d`), so `1d12h` is refused: a value of 36h sent in
that form failed after the mount was enabled. Durations are sent as integer seconds; this table
applies each value on every duration field and checks the server stored it and plans no change.
"""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, read, write_state
from test_auth_kinds import public_key_pem, yaml_block

from vault_state.sandbox import DevServer

VALUES = {"0": 0, "59s": 59, "1h": 3600, "36h": 129600, "7d": 604800, "87550": 87550, "8760h": 31536000, "1.5h": 5400}
TOKEN_DURATIONS = ("token_ttl", "token_max_ttl", "token_explicit_max_ttl", "token_period")
JWT_DURATIONS = ("clock_skew_leeway", "expiration_leeway", "not_before_leeway", "max_age")


def key(text: str) -> str:
    return "v" + text.replace(".", "-")


def durations_state(tmp_path: Path) -> str:
    engines = "".join(
        f"  kv-{key(text)}:\n    type: kv-v2\n"
        f"    tune: {{default_lease_ttl: {text!r}, max_lease_ttl: {text!r}}}\n"
        f"    kv_config: {{delete_version_after: {text!r}}}\n"
        for text in VALUES
    )
    approle = "".join(
        f"      {key(text)}: {{secret_id_ttl: {text!r}, " + ", ".join(f"{f}: {text!r}" for f in TOKEN_DURATIONS) + "}\n"
        for text in VALUES
    )
    jwt = "".join(
        f"      {key(text)}: {{role_type: jwt, user_claim: sub, bound_audiences: [vault], "
        + ", ".join(f"{f}: {text!r}" for f in JWT_DURATIONS)
        + "}\n"
        for text in VALUES
    )
    return (
        "version: 1\nsecrets_engines:\n" + engines
        + "auth_methods:\n  approle:\n    type: approle\n    roles:\n" + approle
        + "  jwt:\n    type: jwt\n    config:\n      jwt_validation_pubkeys:\n"
        + f"        - {yaml_block(public_key_pem(tmp_path, 'k'), 10)}\n"
        + "    roles:\n" + jwt
    )


def go_duration(seconds: int) -> str:
    """Go's time.Duration.String() for whole seconds: 59s, 1m0s, 36h0m0s."""
    hours, rest = divmod(seconds, 3600)
    if hours:
        return f"{hours}h{rest // 60}m{rest % 60}s"
    return f"{rest // 60}m{rest % 60}s" if rest >= 60 else f"{rest}s"


def test_every_duration_field_takes_days_and_plans_empty(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, durations_state(tmp_path)))
    result = cli("apply", "-f", state, "--auto-approve")
    assert result.code == 0, result.out + result.err
    mounts = bao.request("GET", "sys/mounts").json()["data"]
    for text, seconds in VALUES.items():
        mount = mounts[f"kv-{key(text)}/"]["config"]  # the stored value (…/tune shows the effective one)
        assert (mount["default_lease_ttl"], mount["max_lease_ttl"]) == (seconds, seconds)
        assert read(bao, f"kv-{key(text)}/config")["delete_version_after"] == go_duration(seconds)
        role = read(bao, f"auth/approle/role/{key(text)}")
        assert [role[f] for f in ("secret_id_ttl", *TOKEN_DURATIONS)] == [seconds] * 5, text
        jwt_role = read(bao, f"auth/jwt/role/{key(text)}")
        assert jwt_role["max_age"] == seconds, text
    again = cli("plan", "-f", state, "--detailed-exitcode")
    assert again.code == 0, again.out
    assert "No changes." in again.out
