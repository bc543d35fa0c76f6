"""Fleets, second round, against real OpenBao dev servers: each target's own login credentials,
validate/lint --targets offline, apply's summary with counts, a Markdown comment that fits a GitHub
comment, and a dead server that costs a bounded time (connect timeout, retry budget)."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import Cli, read
from test_fleet import NAMES, Fleet, fleet, sections  # noqa: F401  (fleet: the three-server fixture)
from test_login import signed_jwt

from vault_state.cli import main
from vault_state.fleet.report import plan_markdown_comment
from vault_state.fleet.run import Outcome
from vault_state.fleet.targets import Target, TargetLogin
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


def _offline_fleet(tmp_path: Path) -> str:
    """A fleet on disk only: staging's overlay has a lint warning, prod-us's an unknown key."""
    files = {
        "base/platform.yaml": "version: 1\nsecrets_engines:\n  apps: {type: kv, version: 2}\n",
        "overlays/staging.yaml": "policies:\n  apps-reader: 'path \"apps/*\" { capabilities = [\"read\"] }'\n",
        "overlays/prod-us.yaml": "secrets_engines:\n  apps: {descripton: prod}\n",
        "targets.yaml": "targets:\n"
                        "  staging: {address: 'http://127.0.0.1:1', token_env: T, files: [base/], "
                        "overlays: [overlays/staging.yaml]}\n"
                        "  prod-eu: {address: 'http://127.0.0.1:1', token_env: T, files: [base/]}\n"
                        "  prod-us: {address: 'http://127.0.0.1:1', token_env: T, files: [base/], "
                        "overlays: [overlays/prod-us.yaml]}\n",
    }
    for name, text in files.items():
        (tmp_path / "fleet" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "fleet" / name).write_text(text)
    return str(tmp_path / "fleet" / "targets.yaml")


def test_validate_and_lint_targets_check_every_target_offline(offline_cli: Cli, tmp_path: Path) -> None:
    targets = _offline_fleet(tmp_path)
    here = tmp_path / "fleet"
    validated = offline_cli("validate", "--targets", targets)  # no token, no server: nothing listens on :1
    assert validated.code == 1
    parts = sections(validated.out)
    assert parts["=== staging: http://127.0.0.1:1 ==="] == [
        f"{here}/base: valid (1 secrets engine, 1 policy)", ""]
    assert parts["=== prod-us: http://127.0.0.1:1 ==="] == [
        f"{here}/overlays/prod-us.yaml:2:10: unknown key 'descripton'; did you mean 'description'?", ""]
    assert parts["Summary (3 targets):"] == [
        "  target   result",
        "  staging  valid",
        "  prod-eu  valid",
        "  prod-us  invalid: 1 error",
    ]
    linted = offline_cli("lint", "--targets", targets, "--only", "staging", "--only", "prod-eu", "--strict")
    assert linted.code == 1  # staging's warning, with --strict
    parts = sections(linted.out)
    assert parts["=== staging: http://127.0.0.1:1 ==="] == [
        f"{here}/overlays/staging.yaml:2:16: warning: policy 'apps-reader': path 'apps/*' is on KV v2 mount 'apps' "
        "but lacks data/ or metadata/; KV v2 secrets are read at 'apps/data/*' [kv2-path-without-data]",
        f"{here}/base: 1 warning", ""]
    assert parts["Summary (2 targets):"] == [
        "  target   result",
        "  staging  1 warning (--strict)",
        "  prod-eu  no warnings",
    ]
    assert offline_cli("lint", "--targets", targets, "--only", "staging").code == 0  # warnings alone: 0
    assert offline_cli("validate", "--targets", targets, "--only", "prod-eu").code == 0
    refused = offline_cli("lint", "--targets", targets, "-f", "x.yaml")
    assert refused.err == f"error: --targets: -f cannot be given with it; each target's come from {targets}\n"


def test_a_markdown_comment_too_long_for_github_cuts_the_largest_sections(
        offline_cli: Cli, fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    """prod-eu plans 400 policies (a section longer than a whole comment), prod-us 150 (a section that
    fits, but not beside prod-eu's): prod-eu's is cut, prod-us's and staging's are kept, and the summary
    table has every count."""
    rule = '    path "apps/data/team-{0}/{1}/*" {{ capabilities = ["read", "list"] }}\n'
    for name, count in (("eu", 400), ("us", 150)):
        policies = "".join(f"  team-{i}: |\n" + "".join(rule.format(i, j) for j in range(3)) for i in range(count))
        (tmp_path / "fleet" / f"{name}.yaml").write_text(f"policies:\n{policies}")
    targets = tmp_path / fleet.targets
    targets.write_text(targets.read_text().replace("overlays: [overlays/prod.yaml]}\n  prod-us",
                                                   "overlays: [overlays/prod.yaml, eu.yaml]}\n  prod-us")
                       .replace("overlays: [overlays/prod.yaml]}\n  staging",
                                "overlays: [overlays/prod.yaml, us.yaml]}\n  staging"))
    whole = offline_cli("plan", "--targets", fleet.targets, "--only", "prod-eu", "--format", "json", env=fleet.env)
    assert len(json.loads(whole.out)["targets"]["prod-eu"]["plan"]["changes"]) == 404
    result = offline_cli("plan", "--targets", fleet.targets, "--format", "markdown", env=fleet.env)
    assert result.code == 0, result.err
    assert 40_000 < len(result.out) <= 65_536
    top = result.out.split("<details>")[0]
    assert top.split("\n\n")[1].splitlines()[2:] == [
        "| `prod-eu` | 404 | 0 | 0 |  |", "| `prod-us` | 154 | 0 | 0 |  |", "| `staging` | 5 | 0 | 0 |  |"]
    assert top.split("\n\n")[2] == (
        "> [!NOTE]\n> This comment is cut to fit a GitHub comment (65,536 characters): the plans of `prod-eu` "
        f"are left out. See them with `vault-state plan --targets {fleet.targets} --only NAME`, or the whole run "
        "in the job's log.")
    eu = result.out.split("<details>")[1]
    size = re.search(r"This section \(([\d,]+) characters\)", eu)
    assert size is not None and int(size.group(1).replace(",", "")) > 65_536
    assert eu.startswith(f"<summary><b>prod-eu</b> ({fleet.address(0)}): 404 to add, 0 to change, 0 to destroy "
                         "(cut)</summary>")
    assert f"See it with `vault-state plan --targets {fleet.targets} --only prod-eu`." in eu
    us = result.out.split("<details>")[2]  # kept whole: every policy's diff
    assert us.count("#### `policy/team-") == 150
    assert "`policy/team-149`" in us and "(cut)" not in us
    assert "#### `policy/debug`" in result.out.split("<details>")[3]
    # prod-eu alone, as the note says: its whole section is more than a comment holds, so it is cut too.
    alone = offline_cli("plan", "--targets", fleet.targets, "--only", "prod-eu", "--format", "markdown", env=fleet.env)
    assert len(alone.out) < 2_000 and "(cut)" in alone.out


@contextlib.contextmanager
def _dropping_port() -> Iterator[str]:
    """An address whose connections are never accepted, as a host that is down or firewalled drops
    them: a listening socket with a backlog of one, filled by a connection nobody accepts; the kernel
    then drops every further SYN and the client waits for its connect timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        host, port = listener.getsockname()
        with socket.create_connection((host, port)):
            yield f"http://{host}:{port}"


def test_dead_targets_cost_their_connect_timeout_and_retry_budget(
        offline_cli: Cli, fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    """prod-eu drops connections, prod-us is sealed (every request 503, retried): by default each
    holds the fleet's plan 10 s or more (measured in docs/fleets.md); a target's own connect_timeout
    and retry_budget, or the flags, bound them."""
    fleet.servers[1].request("PUT", "sys/seal")
    env = {k: v for k, v in fleet.env.items() if k != "VAULT_MAX_RETRIES"}  # retries as by default
    targets = tmp_path / fleet.targets
    with _dropping_port() as dead:
        text = targets.read_text().replace(f"'{fleet.address(0)}'", f"'{dead}', connect_timeout: 2s")
        targets.write_text(text.replace(f"'{fleet.address(1)}'", f"'{fleet.address(1)}', retry_budget: 1s"))
        started = time.monotonic()
        result = offline_cli("plan", "--targets", fleet.targets, env=env)
        took = time.monotonic() - started
        assert result.code == 1
        summary = sections(result.out)["Summary (3 targets):"]
        assert summary[:2] == ["  target   add  change  destroy  error",
                               f"  prod-eu    -       -        -  cannot reach {dead}: timed out"]
        assert re.fullmatch(r"  prod-us    -       -        -  \S+ sys/\S+: HTTP 503: Vault is sealed", summary[2])
        assert summary[3] == "  staging    5       0        0"
        assert 2 <= took < 6, took  # the targets run at once: the slowest, prod-eu's 2 s connect, and the plans
        # The flags are the default of every target that does not set its own.
        targets.write_text(text.replace(", connect_timeout: 2s", ""))
        started = time.monotonic()
        flagged = offline_cli("plan", "--targets", fleet.targets, "--connect-timeout", "1s", "--retry-budget", "1s",
                              env=env)
        took = time.monotonic() - started
        summary = sections(flagged.out)["Summary (3 targets):"]
        assert summary[1] == f"  prod-eu    -       -        -  cannot reach {dead}: timed out"
        assert summary[2].endswith("HTTP 503: Vault is sealed")
        assert 1 <= took < 5, took


@pytest.mark.parametrize(("flag", "value", "message"), [
    ("--connect-timeout", "0s", "expected at least 1s, got '0s'"),
    ("--retry-budget", "soon", "invalid duration 'soon': use seconds (3600) or units s, m, h, d (90s, 1h30m, 7d)"),
])
def test_timeout_flags_are_checked(capsys: pytest.CaptureFixture[str], flag: str, value: str, message: str) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["plan", flag, value])
    assert exited.value.code == 1
    assert capsys.readouterr().err.endswith(f"error: argument {flag}: {message}\n")


def test_the_login_table_in_the_docs_lists_every_key() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "fleets.md").read_text()
    table = text.split("| `login` key |")[1].split("\n\n")[0]
    documented = [key.strip().strip("`") for row in table.splitlines()[2:] for key in row.split("|")[1].split("/")]
    assert documented == list(TargetLogin.model_fields)


def _jwt_login(server: DevServer, tmp_path: Path, name: str) -> str:
    """A jwt auth method on `server` trusting its own key (issuer `name`): a signed JWT for role deploy."""
    key, public = tmp_path / f"{name}.key", tmp_path / f"{name}.pub"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], capture_output=True, check=True)
    subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(public)], capture_output=True, check=True)
    server.request("PUT", "sys/policies/acl/admin", {"policy": ADMIN})
    server.request("POST", "sys/auth/ci-jwt", {"type": "jwt"})
    server.request("POST", "auth/ci-jwt/config", {"jwt_validation_pubkeys": [public.read_text()], "bound_issuer": name})
    server.request("POST", "auth/ci-jwt/role/deploy", {
        "role_type": "jwt", "user_claim": "sub", "bound_audiences": ["vault-state"], "token_policies": ["admin"]})
    now = int(time.time())
    return signed_jwt(key, {"iss": name, "sub": "pipeline", "aud": "vault-state", "iat": now, "exp": now + 300})


def test_two_jwt_targets_read_their_own_token_from_a_variable_and_a_file(
        offline_cli: Cli, fleet: Fleet, tmp_path: Path) -> None:  # noqa: F811
    us_jwt = _jwt_login(fleet.servers[1], tmp_path, "us")
    staging_jwt = _jwt_login(fleet.servers[2], tmp_path, "staging")
    (tmp_path / "fleet" / "staging.jwt").write_text(staging_jwt + "\n")
    targets = tmp_path / fleet.targets
    login = "login: {method: jwt, mount: ci-jwt, role: deploy, "
    targets.write_text(targets.read_text().replace("token_env: PROD_US_TOKEN", login + "jwt_env: US_JWT}")
                       .replace("token_env: STAGING_TOKEN", login + "jwt_file: staging.jwt}"))
    # VAULT_JWT, what `--login jwt` reads, holds prod-us's token: staging must read its own file.
    env = {**fleet.env, "US_JWT": us_jwt, "VAULT_JWT": us_jwt}
    result = offline_cli("apply", "--targets", fleet.targets, "--only", "prod-us", "--only", "staging",
                         "--auto-approve", env=env)
    assert result.code == 0, result.out + result.err
    assert sections(result.out)["Summary (2 targets):"][1:] == ["  prod-us    4       0        0  ok",
                                                               "  staging    5       0        0  ok"]
    assert us_jwt not in result.out + result.err and staging_jwt not in result.out + result.err
    # Each server trusts only its own issuer's key: the other's JWT is refused by the server.
    swapped = offline_cli("plan", "--targets", fleet.targets, "--only", "prod-us", env={**env, "US_JWT": staging_jwt})
    assert swapped.code == 1
    assert sections(swapped.out)["Summary (1 target):"][1].startswith(
        "  prod-us    -       -        -  POST auth/ci-jwt/login: HTTP 400: ")


def test_a_comment_with_too_many_targets_keeps_only_the_table() -> None:
    """With a limit so small that even the cut sections do not fit, the table and the note remain."""
    target = Target(address="https://vault.example.com", token_env="T", files=["base/"])
    outcomes = [Outcome(f"t{i}", target, code=1, error=f"cannot reach https://vault.example.com: {'x' * 1000}")
                for i in range(3)]
    whole = plan_markdown_comment(outcomes, "vault-state plan --targets t.yaml")
    assert whole.count("<details>") == 3 and "(cut)" not in whole
    limit = len(whole) - 400  # one section cut is enough
    cut = plan_markdown_comment(outcomes, "vault-state plan --targets t.yaml", limit=limit)
    assert len(cut) <= limit and cut.count("(cut)") == 1 and cut.count("<details>") == 3
    assert f"| `t0` |  |  |  | cannot reach https://vault.example.com: {'x' * 159}… |" in whole  # cells: 200
    table_only = plan_markdown_comment(outcomes, "vault-state plan --targets t.yaml", limit=1500)
    assert "<details>" not in table_only and len(table_only) <= 1500
    assert table_only.endswith(
        "the plans of `t0`, `t1`, `t2` and every section below the table are left out. See them with "
        "`vault-state plan --targets t.yaml --only NAME`, or the whole run in the job's log.\n")
