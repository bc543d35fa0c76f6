"""`vault-state required-policy` for the database secrets engine (connections, roles, static roles,
rotate-root after create) against a real OpenBao and a real PostgreSQL (tests/pg_server.py): the
policy is enough, and every block of it is needed."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli
from pg_server import Postgres
from required_policy_check import Namespaces, blocks, check_enough_and_needed, required_policy

from vault_state.sandbox import DevServer

CREATE = ["CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"]


def engine(url: str, user: str, ttl: str, extra_role: bool) -> dict[str, Any]:
    roles = {"readonly": {"db_name": "app-pg", "creation_statements": CREATE, "default_ttl": ttl}}
    if extra_role:  # one more, for prune: owned to delete
        roles["old"] = {"db_name": "app-pg", "creation_statements": CREATE}
    return {
        "type": "database",
        "description": f"ttl {ttl}",
        "database": {
            "connections": {"app-pg": {
                "plugin_name": "postgresql-database-plugin", "connection_url": url, "username": user,
                "password": {"env": "PG_PASSWORD"}, "allowed_roles": ["*"], "max_open_connections": 2 if extra_role else 3,
            }},
            "roles": roles,
            "static_roles": {"owner": {"db_name": "app-pg", "username": "rp_owner", "rotation_period": ttl}},
        },
    }


@pytest.mark.timeout(300)
def test_database_engine(
    cli: Cli, bao: DevServer, postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    user, password = f"vault_{secrets.token_hex(4)}", "vault-pw-" + secrets.token_hex(6)
    postgres.admin(f"CREATE ROLE {user} WITH LOGIN SUPERUSER PASSWORD '{password}'")
    postgres.admin("DO $$ BEGIN CREATE ROLE rp_owner WITH LOGIN PASSWORD 'x'; EXCEPTION WHEN duplicate_object "
                   "THEN NULL; END $$")
    files = {}
    for name, ttl, extra in (("state", "24h", False), ("earlier", "48h", True)):
        document = {"version": 1, "stack": "db", "secrets_engines": {"db": engine(postgres.url, user, ttl, extra)}}
        if name == "state":
            document["prune"] = {"database_roles": "owned"}
        files[name] = tmp_path / f"{name}.yaml"
        files[name].write_text(json.dumps(document, indent=1))
    policy = required_policy(cli, files["state"])
    paths = [path for path, _ in blocks(policy)]
    assert {"db/config/app-pg", "db/roles/readonly", "db/roles/+", "db/static-roles/owner"} <= set(paths)
    namespaces = Namespaces(bao, cli, files, monkeypatch, {"PG_PASSWORD": password})
    assert check_enough_and_needed(namespaces, policy) == len(paths)
