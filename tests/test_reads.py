"""What a plan reads: only what the file and prune need, each path once, and no write at all."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from conftest import EXAMPLES, REVIEWER_JWT, Cli

from vault_state.desired import build_desired
from vault_state.plan.planner import plan
from vault_state.sandbox import DevServer
from vault_state.spec.loader import load_state
from vault_state.vault.connection import connection_from
from vault_state.vault.gateway import Gateway
from vault_state.vault.reader import read_live


class CountingGateway(Gateway):
    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.log: list[tuple[str, str]] = []

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, namespace: str = "", patient: bool = True
    ) -> tuple[int, dict[str, Any]]:
        self.log.append((method, f"{namespace}:{path}" if namespace else path))
        return super().request(method, path, body, namespace, patient)


def _read(bao: DevServer, state: Path) -> CountingGateway:
    loaded = load_state(state)
    desired = build_desired(loaded, {**os.environ, "TOKEN_REVIEWER_JWT": REVIEWER_JWT})
    gateway = CountingGateway(connection_from(bao.env()))
    live = read_live(gateway, desired, loaded.state.prune)
    assert not plan(desired, live, loaded.state.prune).has_changes
    return gateway


def test_no_op_plan_reads_each_path_once_and_writes_nothing(cli: Cli, bao: DevServer) -> None:
    state = EXAMPLES / "state.yaml"
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    gateway = _read(bao, state)
    assert gateway.log == [
        ("GET", "sys/mounts"),
        ("GET", "secret/config"),
        ("LIST", "sys/policies/acl"),
        ("GET", "sys/policies/acl/eso-policy"),
        ("GET", "sys/auth"),
        ("GET", "auth/kubernetes/config"),
        ("LIST", "auth/kubernetes/role"),
        ("GET", "auth/kubernetes/role/eso-role"),
    ]


def test_objects_outside_the_file_are_not_read(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    for index in range(5):
        bao.request("PUT", f"sys/policies/acl/other-{index}", {"policy": 'path "x" { capabilities = ["read"] }'})
    bao.request("POST", "sys/auth/unmanaged", {"type": "approle"})
    bao.request("POST", "auth/unmanaged/role/r", {"token_ttl": "1h"})
    state = tmp_path / "state.yaml"
    state.write_text("version: 1\npolicies:\n  mine: 'path \"a\" { capabilities = [\"read\"] }'\n")
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    paths = [path for _, path in _read(bao, state).log]
    assert paths == ["sys/policies/acl", "sys/policies/acl/mine"]


def test_unknown_policy_warning_checks_the_server(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = tmp_path / "state.yaml"
    state.write_text(
        "version: 1\nauth_methods:\n  ar:\n    type: approle\n    roles:\n"
        "      ci:\n        token_policies: [on-server, nowhere]\n"
    )
    bao.request("PUT", "sys/policies/acl/on-server", {"policy": 'path "a" { capabilities = ["read"] }'})
    result = cli("plan", "-f", str(state))
    assert result.code == 0
    assert result.err.splitlines() == [
        f"{state}:7:37: warning: role 'ci' names policy 'nowhere', which this file does not declare "
        "and the server does not have [unknown-policy]"
    ]
