"""Fleets, second round, against real OpenBao dev servers: each target's own login credentials,
validate/lint --targets offline, apply's summary with counts, a Markdown comment that fits a GitHub
comment, and a dead server that costs a bounded time (connect timeout, retry budget)."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli, read
from test_fleet import NAMES, Fleet, fleet, sections  # noqa: F401  (fleet: the three-server fixture)

from vault_state.sandbox import DevServer

ADMIN = 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }'


def _approle(server: DevServer) -> tuple[str, str]:
    """An approle login on `server` (mount fleet-login, role vault-state, an admin policy): its credentials."""
    server.request("POST", "sys/auth/fleet-login", {"type": "approle"})
    server.request("PUT", "sys/policy/admin", {"policy": ADMIN})
    server.request("POST", "auth/fleet-login/role/vault-state", {"token_policies": ["admin"]})
    role_id = server.request("GET", "auth/fleet-login/role/vault-state/role-id").json()["data"]["role_id"]
    secret_id = server.request("POST", "auth/fleet-login/role/vault-state/secret-id").json()["data"]["secret_id"]
    return str(role_id), str(secret_id)


def test_two_approle_targets_log_in_with_their_own_credentials(
        offline_cli: Cli, fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    eu_role, eu_secret = _approle(fleet.servers[0])
    us_role, us_secret = _approle(fleet.servers[1])
    assert (eu_role, eu_secret) != (us_role, us_secret)
    (tmp_path / "fleet" / "us-role-id").write_text(us_role + "\n")  # a file (e.g. a mounted secret), trimmed
    targets = tmp_path / fleet.targets
    targets.write_text(targets.read_text().replace(
        "token_env: PROD_EU_TOKEN",
        "login: {method: approle, mount: fleet-login, role_id_env: EU_ROLE_ID, secret_id_env: EU_SECRET_ID}",
    ).replace(
        "token_env: PROD_US_TOKEN",
        "login: {method: approle, mount: fleet-login, role_id_file: us-role-id, secret_id_env: US_SECRET_ID}",
    ))
    # The variables `--login approle` reads hold prod-eu's credentials: prod-us must not use them.
    env = {**fleet.env, "PROD_EU_TOKEN": "", "PROD_US_TOKEN": "", "EU_ROLE_ID": eu_role, "EU_SECRET_ID": eu_secret,
           "US_SECRET_ID": us_secret, "VAULT_ROLE_ID": eu_role, "VAULT_SECRET_ID": eu_secret}
    result = offline_cli("apply", "--targets", fleet.targets, "--only", "prod-*", "--auto-approve", env=env)
    assert result.code == 0, result.out + result.err
    assert [read(s, "sys/mounts/apps")["description"] for s in fleet.servers[:2]] == ["production secrets"] * 2
    for secret in (eu_role, eu_secret, us_role, us_secret):
        assert secret not in result.out + result.err
    # Each token was revoked at the end: no admin token is left on either server.
    for server in fleet.servers[:2]:
        accessors = server.request("LIST", "auth/token/accessors").json()["data"]["keys"]
        policies = [server.request("POST", "auth/token/lookup-accessor", {"accessor": a}).json()["data"]["policies"]
                    for a in accessors]
        assert ["admin", "default"] not in policies
    # prod-us given prod-eu's secret ID: its own login fails, prod-eu's still works.
    swapped = offline_cli("plan", "--targets", fleet.targets, "--only", "prod-*", env={**env, "US_SECRET_ID": eu_secret})
    assert swapped.code == 1
    summary = sections(swapped.out)["Summary (2 targets):"]
    assert summary[1] == "  prod-eu    0       0        0"
    assert summary[2].startswith("  prod-us    -       -        -  POST auth/fleet-login/login: HTTP 400: "), summary
    assert eu_secret not in swapped.out + swapped.err
    # A variable it names that is not set is an error of that target, named.
    unset = offline_cli("plan", "--targets", fleet.targets, "--only", "prod-*", env={**env, "EU_SECRET_ID": ""})
    assert sections(unset.out)["Summary (2 targets):"][1] == "  prod-eu    -       -        -  EU_SECRET_ID is not set"
    (tmp_path / "fleet" / "us-role-id").unlink()
    gone = offline_cli("plan", "--targets", fleet.targets, "--only", "prod-us", env=env)
    assert sections(gone.out)["Summary (1 target):"][1] == (
        "  prod-us    -       -        -  cannot read the role ID file fleet/us-role-id: No such file or directory")
