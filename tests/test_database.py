"""The database secrets engine against a real OpenBao and a real PostgreSQL (tests/pg_server.py).

Connections are verified by Vault really connecting; a dynamic role's credentials log in to
PostgreSQL; a static role rotates an existing user's password; rotate-root leaves only Vault
knowing the root password, and the file's is never sent again. A database that is down fails
its connection's write with the server's message, never the password, and a rerun converges.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, read
from pg_server import Postgres

from vault_state.sandbox import DevServer


@pytest.fixture
def vault_user(postgres: Postgres) -> Iterator[tuple[str, str]]:
    """A superuser of its own for Vault (rotate-root changes it): (name, password)."""
    name, password = f"vault_{secrets.token_hex(4)}", "vault-pw-SECRET-" + secrets.token_hex(6)
    postgres.admin(f"CREATE ROLE {name} WITH LOGIN SUPERUSER PASSWORD '{password}'")
    yield name, password


def state(postgres: Postgres, user: str, tmp: Path, **extra: Any) -> Path:
    connection = {
        "plugin_name": "postgresql-database-plugin", "connection_url": postgres.url, "username": user,
        "password": {"env": "PG_PASSWORD"}, "allowed_roles": ["readonly", "owner"], **extra.pop("connection", {}),
    }
    engine = {
        "type": "database",
        "database": {
            "connections": {"app-pg": connection},
            "roles": {"readonly": {
                "db_name": "app-pg",
                "creation_statements": [
                    "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';",
                    "GRANT pg_read_all_data TO \"{{name}}\";",
                ],
                "default_ttl": "1h", "max_ttl": "24h",
            }},
            **extra,
        },
    }
    path = tmp / "state.yaml"
    path.write_text(json.dumps({"version": 1, "secrets_engines": {"db": engine}}, indent=1))
    return path


def apply(cli: Cli, path: Path, password: str, *args: str) -> Any:
    return cli("apply", "-f", str(path), "--auto-approve", *args, env={"PG_PASSWORD": password})


def plan(cli: Cli, path: Path, password: str) -> Any:
    return cli("plan", "-f", str(path), "--detailed-exitcode", env={"PG_PASSWORD": password})


def test_a_dynamic_role_issues_users_that_log_in(
    cli: Cli, bao: DevServer, postgres: Postgres, vault_user: tuple[str, str], tmp_path: Path
) -> None:
    user, password = vault_user
    path = state(postgres, user, tmp_path, connection={"verify_connection": True})
    result = apply(cli, path, password)
    assert result.code == 0, result.out + result.err
    assert password not in result.out + result.err
    assert plan(cli, path, password).code == 0

    creds = read(bao, "db/creds/readonly")
    assert postgres.can_log_in(creds["username"], creds["password"])
    assert not postgres.can_log_in(creds["username"], "wrong")


def test_a_static_role_rotates_the_password_of_an_existing_user(
    cli: Cli, bao: DevServer, postgres: Postgres, vault_user: tuple[str, str], tmp_path: Path
) -> None:
    user, password = vault_user
    owner, before = f"owner_{secrets.token_hex(4)}", "owner-pw-" + secrets.token_hex(6)
    postgres.admin(f"CREATE ROLE {owner} WITH LOGIN PASSWORD '{before}'")
    assert postgres.can_log_in(owner, before)
    statics = {"owner": {"db_name": "app-pg", "username": owner, "rotation_period": "24h"}}
    path = state(postgres, user, tmp_path, static_roles=statics)
    result = apply(cli, path, password)
    assert result.code == 0, result.out + result.err
    assert plan(cli, path, password).code == 0

    # Vault rotated the password when the role was created: the old one no longer works.
    assert not postgres.can_log_in(owner, before)
    rotated = read(bao, "db/static-creds/owner")["password"]
    assert postgres.can_log_in(owner, rotated)


def test_rotate_root_after_create_never_sends_the_file_password_again(
    cli: Cli, bao: DevServer, postgres: Postgres, vault_user: tuple[str, str], tmp_path: Path
) -> None:
    user, password = vault_user
    path = state(postgres, user, tmp_path, connection={"rotate_root_after_create": True})
    planned = cli("plan", "-f", str(path), env={"PG_PASSWORD": password})
    assert "rotate_root_after_create = true" in planned.out, planned.out
    assert "the password is rotated right after the connection is created" in planned.out + planned.err
    result = apply(cli, path, password)
    assert result.code == 0, result.out + result.err
    assert password not in result.out + result.err
    # Only Vault knows the root password now.
    assert not postgres.can_log_in(user, password)
    assert plan(cli, path, password).code == 0

    # A later change is written without the password: Vault verifies the connection with the
    # rotated one it keeps (sending the file's, now wrong, would fail the verification).
    changed = state(postgres, user, tmp_path, connection={"rotate_root_after_create": True, "max_open_connections": 2})
    planned = cli("plan", "-f", str(changed), env={"PG_PASSWORD": password})
    assert "~ max_open_connections: 4 -> 2" in planned.out, planned.out
    assert "the file's password is not sent (Vault keeps the rotated one)" in planned.out + planned.err
    result = apply(cli, changed, password)
    assert result.code == 0, result.out + result.err
    assert plan(cli, changed, password).code == 0
    creds = read(bao, "db/creds/readonly")
    assert postgres.can_log_in(creds["username"], creds["password"])


def test_without_rotation_a_changed_connection_sends_the_file_password(
    cli: Cli, bao: DevServer, postgres: Postgres, vault_user: tuple[str, str], tmp_path: Path
) -> None:
    user, password = vault_user
    path = state(postgres, user, tmp_path)
    assert apply(cli, path, password).code == 0
    postgres.admin(f"ALTER ROLE {user} WITH PASSWORD 'changed-elsewhere'")
    changed = state(postgres, user, tmp_path, connection={"max_open_connections": 2})
    failed = apply(cli, changed, password)
    assert failed.code == 1
    assert "password authentication failed" in failed.out, failed.out
    assert password not in failed.out + failed.err
    assert apply(cli, changed, "changed-elsewhere").code == 0


def test_an_unreachable_database_fails_its_connection_only_and_a_rerun_converges(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    down = Postgres().start()
    try:
        user, password = "vault_root", "vault-pw-SECRET-down"
        down.admin(f"CREATE ROLE {user} WITH LOGIN SUPERUSER PASSWORD '{password}'")
        down.stop()
        path = state(down, user, tmp_path)
        policy = {"policies": {"app": 'path "db/creds/readonly" { capabilities = ["read"] }'}}
        document = {**json.loads(path.read_text()), **policy}
        path.write_text(json.dumps(document))

        result = apply(cli, path, password, "--parallelism", "1")
        assert result.code == 1
        assert "  applied  secrets_engine/db" in result.out
        assert (
            "  FAILED   database_connection/db/app-pg: POST db/config/app-pg: HTTP 400: error creating database "
            "object: error verifying connection: failed to connect to `user=vault_root database=postgres`"
        ) in result.out, result.out
        assert "connection refused" in result.out
        assert "  pending  database_role/db/readonly (not applied)" in result.out
        assert "  pending  policy/app (not applied)" in result.out
        assert "1 applied, 1 failed, 2 not applied" in result.err
        assert password not in result.out + result.err

        down.start()
        rerun = apply(cli, path, password)
        assert rerun.code == 0, rerun.out + rerun.err
        assert plan(cli, path, password).code == 0
    finally:
        down.stop()


def test_wrong_credentials_fail_with_the_server_message_never_the_password(
    cli: Cli, bao: DevServer, postgres: Postgres, vault_user: tuple[str, str], tmp_path: Path
) -> None:
    user, password = vault_user
    path = state(postgres, user, tmp_path)
    wrong = "wrong-pw-SECRET-" + secrets.token_hex(4)
    result = apply(cli, path, wrong)
    assert result.code == 1
    assert f'failed SASL auth: FATAL: password authentication failed for user \\"{user}\\"' in result.out or (
        f'password authentication failed for user "{user}"' in result.out
    ), result.out
    assert wrong not in result.out + result.err and password not in result.out + result.err
    assert apply(cli, path, password).code == 0
    assert plan(cli, path, password).code == 0


def test_prune_deletes_what_the_file_does_not_declare_only_when_asked(
    cli: Cli, bao: DevServer, postgres: Postgres, vault_user: tuple[str, str], tmp_path: Path
) -> None:
    user, password = vault_user
    path = state(postgres, user, tmp_path)
    assert apply(cli, path, password).code == 0
    bao.request("POST", "db/config/other", {"plugin_name": "postgresql-database-plugin", "verify_connection": False,
                                            "connection_url": postgres.url})
    bao.request("POST", "db/roles/extra", {"db_name": "app-pg", "creation_statements": ["SELECT 1;"]})
    assert plan(cli, path, password).code == 0  # prune off: left alone

    document = json.loads(path.read_text())
    document["prune"] = {"database_connections": True, "database_roles": True, "database_static_roles": True}
    path.write_text(json.dumps(document))
    planned = cli("plan", "-f", str(path), env={"PG_PASSWORD": password})
    assert "- database_connection/db/other" in planned.out, planned.out
    assert "- database_role/db/extra" in planned.out
    assert "Plan: 0 to add, 0 to change, 2 to destroy." in planned.out
    result = apply(cli, path, password)
    assert result.code == 0, result.out + result.err
    assert plan(cli, path, password).code == 0
    listed = bao.request("LIST", "db/roles").json()["data"]["keys"]
    assert listed == ["readonly"]


def test_a_static_role_for_another_user_is_re_created_only_with_allow_destroy(
    cli: Cli, bao: DevServer, postgres: Postgres, vault_user: tuple[str, str], tmp_path: Path
) -> None:
    user, password = vault_user
    first, second = f"a_{secrets.token_hex(4)}", f"b_{secrets.token_hex(4)}"
    for name in (first, second):
        postgres.admin(f"CREATE ROLE {name} WITH LOGIN PASSWORD 'initial'")
    statics = {"owner": {"db_name": "app-pg", "username": first, "rotation_period": "24h"}}
    assert apply(cli, state(postgres, user, tmp_path, static_roles=statics), password).code == 0
    statics["owner"]["username"] = second
    path = state(postgres, user, tmp_path, static_roles=statics)
    planned = cli("plan", "-f", str(path), env={"PG_PASSWORD": password})
    assert "-/+ database_static_role/db/owner" in planned.out, planned.out
    assert "username can only be set when the object is created" in planned.out
    assert "rotates the user's password at once" in planned.out
    refused = apply(cli, path, password)
    assert refused.code == 1 and "--allow-destroy" in refused.out + refused.err
    assert postgres.can_log_in(second, "initial")
    assert apply(cli, path, password, "--allow-destroy").code == 0
    assert not postgres.can_log_in(second, "initial")
    assert read(bao, "db/static-creds/owner")["username"] == second


def test_verify_connection_false_writes_a_connection_to_a_database_that_is_down(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    nowhere = Postgres(port=1)  # nothing listens on port 1
    path = state(nowhere, "vault", tmp_path, connection={"verify_connection": False})
    result = apply(cli, path, "unused-pw-SECRET")
    assert result.code == 0, result.out + result.err
    assert plan(cli, path, "unused-pw-SECRET").code == 0
    assert read(bao, "db/config/app-pg")["connection_details"]["connection_url"] == nowhere.url
    # verify_connection is an instruction for the write: Vault does not store it.
    assert "verify_connection" not in read(bao, "db/config/app-pg")["connection_details"]
