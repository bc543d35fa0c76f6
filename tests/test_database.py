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
