"""Concurrent reads and staged parallel apply: minimal requests, no duplicates, same plan as
sequential, ordering kept, failures reported; and progress is silent where it must be."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import REVIEWER_JWT, Cli, write_state
from rich.console import Console

from vault_state.apply import apply_plan
from vault_state.cli import main
from vault_state.desired import build_desired
from vault_state.errors import VaultApiError
from vault_state.plan.model import Call, Plan
from vault_state.plan.planner import plan
from vault_state.progress import progress_bar
from vault_state.render.json import plan_document
from vault_state.sandbox import DevServer
from vault_state.spec.loader import load_state
from vault_state.vault.connection import connection_from
from vault_state.vault.gateway import Gateway
from vault_state.vault.reader import read_live

POLICY = 'path "kv/data/{name}/*" {{ capabilities = ["read"] }}'


def state_text(policies: int, roles: int, prune: bool = False) -> str:
    """policies p0.., two KV v2 mounts, a kubernetes (with config) and an approle method with roles r0.."""
    lines = ["version: 1"]
    if prune:
        lines += ["prune: {policies: true, auth_roles: true, auth_methods: true, secrets_engines: true}"]
    lines += ["secrets_engines:"]
    lines += [f"  kv{i}: {{type: kv, version: 2, kv_config: {{max_versions: 5}}}}" for i in range(2)]
    lines += ["policies:"] + [f"  p{i}: '{POLICY.format(name=i)}'" for i in range(policies)]
    lines += [
        "auth_methods:",
        "  k8s:",
        "    type: kubernetes",
        "    config:",
        "      kubernetes_host: https://k8s.example:6443",
        "      kubernetes_ca_cert: {file: ca.crt, sensitive: false}",
        "      token_reviewer_jwt: {env: TOKEN_REVIEWER_JWT}",
        "    roles:",
    ]
    lines += [f"      r{i}: {{bound_service_account_names: [sa{i}], bound_service_account_namespaces: [ns],"
              f" audience: vault, token_policies: [p{i % policies}]}}" for i in range(roles)]
    lines += ["  ar:", "    type: approle", "    roles:"]
    lines += [f"      r{i}: {{token_policies: [p{i % policies}], token_ttl: 1h}}" for i in range(roles)]
    return "\n".join(lines) + "\n"


class CountingGateway(Gateway):
    """Logs every request at the HTTP layer, from whichever thread sends it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log: list[tuple[str, str]] = []
        self.threads: set[str] = set()

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, namespace: str = "", patient: bool = True
    ) -> tuple[int, dict[str, Any]]:
        self.log.append((method, f"{namespace}:{path}" if namespace else path))  # list.append is atomic under the GIL
        self.threads.add(threading.current_thread().name)
        return super().request(method, path, body, namespace, patient)


def _plan(bao: DevServer, state: Path, parallelism: int) -> tuple[Plan, CountingGateway]:
    loaded = load_state(state)
    desired = build_desired(loaded, {**os.environ, "TOKEN_REVIEWER_JWT": REVIEWER_JWT})
    gateway = CountingGateway(connection_from(bao.env()), parallelism=parallelism)
    live = read_live(gateway, desired, loaded.state.prune)
    return plan(desired, live, loaded.state.prune), gateway


def test_no_op_plan_makes_the_minimal_requests_once_each(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, state_text(policies=20, roles=10))
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    the_plan, gateway = _plan(bao, state, parallelism=16)
    assert not the_plan.has_changes
    minimal = {
        ("GET", "sys/mounts"), ("GET", "kv0/config"), ("GET", "kv1/config"),
        ("LIST", "sys/policies/acl"), *{("GET", f"sys/policies/acl/p{i}") for i in range(20)},
        ("GET", "sys/auth"), ("GET", "auth/k8s/config"),
        ("LIST", "auth/k8s/role"), *{("GET", f"auth/k8s/role/r{i}") for i in range(10)},
        ("LIST", "auth/ar/role"), *{("GET", f"auth/ar/role/r{i}") for i in range(10)},
    }
    assert len(gateway.log) == len(minimal) == 48
    assert set(gateway.log) == minimal
    assert len(gateway.threads) > 1  # the per-object reads did run concurrently


def test_parallel_reads_plan_like_sequential_reads(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, state_text(policies=12, roles=6, prune=True))
    assert cli("apply", "-f", str(state), "--auto-approve").code == 0
    bao.request("PUT", "sys/policies/acl/p3", {"policy": 'path "drift" { capabilities = ["list"] }'})
    bao.request("PUT", "sys/policies/acl/extra", {"policy": 'path "x" { capabilities = ["read"] }'})
    bao.request("DELETE", "auth/ar/role/r2")
    bao.request("POST", "auth/k8s/role/r4", {"token_ttl": "5m"})
    bao.request("POST", "auth/ar/role/stray", {"token_ttl": "5m"})
    bao.request("POST", "kv1/config", {"max_versions": 9})
    sequential, one = _plan(bao, state, parallelism=1)
    concurrent, many = _plan(bao, state, parallelism=16)
    assert plan_document(concurrent) == plan_document(sequential)
    assert [str(c.id) for c in concurrent.actionable] == [
        "auth_role/ar/stray", "policy/extra", "secrets_engine/kv1", "policy/p3", "auth_role/ar/r2", "auth_role/k8s/r4",
    ]
    assert sorted(one.log) == sorted(many.log) and len(set(many.log)) == len(many.log)
    assert one.threads == {"MainThread"}


def _recording(gateway: Gateway) -> tuple[list[tuple[float, float, Call]], Any]:
    record: list[tuple[float, float, Call]] = []

    def execute(call: Call) -> list[str]:
        start = time.perf_counter()
        try:
            return gateway.execute(call)
        finally:
            record.append((start, time.perf_counter(), call))

    return record, execute


def test_parallel_apply_keeps_stage_order(bao: DevServer, tmp_path: Path) -> None:
    for name in ("old-a", "old-b"):
        bao.request("PUT", f"sys/policies/acl/{name}", {"policy": 'path "x" { capabilities = ["read"] }'})
    bao.request("POST", "sys/mounts/oldkv", {"type": "kv", "options": {"version": "2"}})
    bao.request("POST", "sys/auth/oldauth", {"type": "approle"})
    bao.request("POST", "sys/auth/ar", {"type": "approle"})
    bao.request("POST", "auth/ar/role/gone", {"token_ttl": "5m"})
    state = write_state(tmp_path, state_text(policies=20, roles=10, prune=True))
    the_plan, gateway = _plan(bao, state, parallelism=16)
    record, execute = _recording(gateway)
    report = apply_plan(the_plan, execute, gateway.workers)
    assert report.ok and len(report.applied) == len(the_plan.actionable) == 1 + 1 + 2 + 1 + 2 + 20 + 1 + 20  # ar exists
    stage_of = {  # (path prefix, method) -> stage; deletes in reverse kind order, then kind order
        "DELETE auth/ar/role/": 0, "DELETE sys/auth/": 1, "DELETE sys/policies/acl/": 2, "DELETE sys/mounts/": 3,
        "POST sys/mounts/": 4, "POST kv": 4, "PUT sys/policies/acl/": 5, "POST sys/auth/": 6, "POST auth/k8s/config": 6,
        "POST auth/k8s/role/": 7, "POST auth/ar/role/": 7,
    }
    stages: dict[int, list[tuple[float, float]]] = {}
    for start, end, call in record:
        key = next(k for k in stage_of if f"{call.method} {call.path}".startswith(k))
        stages.setdefault(stage_of[key], []).append((start, end))
    assert sorted(stages) == list(range(8))
    for earlier, later in zip(range(7), range(1, 8), strict=True):
        assert max(end for _, end in stages[earlier]) <= min(start for start, _ in stages[later])
    assert len(gateway.threads) > 1
    the_plan, _ = _plan(bao, state, parallelism=16)
    assert not the_plan.has_changes


def test_parallel_apply_failure_stops_later_stages(bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, state_text(policies=6, roles=2))
    the_plan, gateway = _plan(bao, state, parallelism=6)
    all_started = threading.Barrier(6, timeout=10)  # the 6 policy writes are all in flight together

    def execute(call: Call) -> list[str]:
        if call.path.startswith("sys/policies/acl/"):
            all_started.wait()
        if call.path == "sys/policies/acl/p2":
            raise VaultApiError("PUT", call.path, 403, ["permission denied"])
        return gateway.execute(call)

    report = apply_plan(the_plan, execute, gateway.workers)
    assert [str(c.id) for c, _ in report.failed] == ["policy/p2"]
    assert [str(c.id) for c in report.applied] == [
        "secrets_engine/kv0", "secrets_engine/kv1", "policy/p0", "policy/p1", "policy/p3", "policy/p4", "policy/p5",
    ]
    assert [str(c.id) for c in report.pending] == [
        "auth_method/ar", "auth_method/k8s", "auth_role/ar/r0", "auth_role/ar/r1", "auth_role/k8s/r0", "auth_role/k8s/r1",
    ]
    assert "ar/" not in bao.request("GET", "sys/auth").json()["data"]


def test_progress_is_silent_off_a_terminal(cli: Cli, tmp_path: Path) -> None:
    state = write_state(tmp_path, state_text(policies=3, roles=2))
    applied = cli("apply", "-f", str(state), "--auto-approve")
    assert applied.code == 0 and applied.err == ""
    assert cli("plan", "-f", str(state)).err == ""


def test_progress_bar_draws_only_on_a_terminal_when_enabled() -> None:
    def drawn(terminal: bool, enabled: bool) -> str:
        out = io.StringIO()
        console = Console(file=out, force_terminal=terminal, width=80)
        with progress_bar(console, "reading", enabled=enabled, delay=0) as tracker:  # drawn at once
            tracker.expect(3)
            tracker.advance(3)
        return out.getvalue()

    assert "3/3" in drawn(terminal=True, enabled=True)
    assert drawn(terminal=True, enabled=False) == ""
    assert drawn(terminal=False, enabled=True) == ""


def test_parallelism_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", "--parallelism", "0"])
    assert exit_info.value.code == 1
    assert capsys.readouterr().err.splitlines()[-1] == (
        "vault-state plan: error: argument --parallelism: expected a whole number of at least 1, got '0'"
    )
