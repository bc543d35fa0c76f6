"""Namespaces against a real OpenBao server: nested three deep, ids, metadata, requests, deletes, targets."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import requests
from conftest import REVIEWER_JWT, Cli, write_state
from test_parallel import CountingGateway

from vault_state.desired import build_desired
from vault_state.plan.planner import plan
from vault_state.sandbox import DevServer
from vault_state.spec.loader import load_state
from vault_state.vault.connection import connection_from
from vault_state.vault.reader import read_live

POLICY = 'path "secret/data/*" { capabilities = ["read"] }'
STATE = f"""
version: 1
policies:
  root-reader: '{POLICY}'
namespaces:
  team-a:
    custom_metadata: {{owner: team-a, tier: gold}}
    policies:
      reader: '{POLICY}'
    secrets_engines:
      secret: {{type: kv-v2, description: team a}}
    auth_methods:
      approle:
        type: approle
        roles:
          ci: {{token_policies: [reader], token_ttl: 1h}}
    namespaces:
      staging:
        policies:
          reader: '{POLICY}'
        secrets_engines:
          kv: {{type: kv, version: 1}}
        namespaces:
          eu:
            custom_metadata: {{region: eu}}
            policies:
              eu-reader: '{POLICY}'
  team-b:
    token_roles:
      deploy: {{allowed_policies: [deploy]}}
"""


def get(bao: DevServer, path: str, namespace: str = "") -> requests.Response:
    headers = {"X-Vault-Token": bao.token, **({"X-Vault-Namespace": namespace} if namespace else {})}
    return requests.get(f"{bao.address}/v1/{path}", headers=headers, timeout=10)


def data(bao: DevServer, path: str, namespace: str = "") -> dict[str, Any]:
    response = get(bao, path, namespace)
    return response.json().get("data") or {} if response.status_code == 200 else {}


def applied(cli: Cli, state: Path, *extra: str) -> str:
    result = cli("apply", "-f", str(state), "--auto-approve", *extra)
    assert result.code == 0, result.out + result.err
    return result.out


def assert_empty(cli: Cli, state: Path) -> None:
    result = cli("plan", "-f", str(state), "--detailed-exitcode")
    assert result.code == 0, result.out + result.err
    assert "No changes." in result.out


def test_nested_namespaces_converge_with_prefixed_ids(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, STATE)
    planned = cli("plan", "-f", str(state))
    for rid in ("namespace/team-a", "team-a:namespace/staging", "team-a/staging:namespace/eu",
                "team-a:policy/reader", "team-a:secrets_engine/secret", "team-a:auth_role/approle/ci",
                "team-a/staging:secrets_engine/kv", "team-a/staging/eu:policy/eu-reader", "team-b:token_role/deploy"):
        assert f"  + {rid}\n" in planned.out, rid
    applied(cli, state)
    assert_empty(cli, state)
    assert data(bao, "sys/namespaces/team-a")["custom_metadata"] == {"owner": "team-a", "tier": "gold"}
    assert data(bao, "sys/namespaces/eu", "team-a/staging")["custom_metadata"] == {"region": "eu"}
    assert data(bao, "sys/policies/acl/eu-reader", "team-a/staging/eu")["name"] == "eu-reader"
    assert data(bao, "auth/approle/role/ci", "team-a")["token_policies"] == ["reader"]
    assert "kv/" in data(bao, "sys/mounts", "team-a/staging")
    assert get(bao, "sys/policies/acl/reader").status_code == 404  # not at the root
    assert data(bao, "auth/token/roles/deploy", "team-b")["allowed_policies"] == ["deploy"]


def test_a_no_op_plan_over_namespaces_reads_each_path_once(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, STATE)
    applied(cli, state)
    loaded = load_state(state)
    desired = build_desired(loaded, {**os.environ, "TOKEN_REVIEWER_JWT": REVIEWER_JWT})
    gateway = CountingGateway(connection_from(bao.env()))
    live = read_live(gateway, desired, loaded.state.prune)
    assert not plan(desired, live, loaded.state.prune).has_changes
    assert len(gateway.log) == len(set(gateway.log)), gateway.log
    assert all(method in ("GET", "LIST") for method, _ in gateway.log)
    assert ("GET", "team-a/staging/eu:sys/policies/acl/eu-reader") in gateway.log
    assert ("GET", "team-a/staging:sys/namespaces?list=true") in gateway.log


def test_custom_metadata_is_replaced_to_equal_the_file(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, STATE)
    applied(cli, state)
    write_state(tmp_path, STATE.replace("{owner: team-a, tier: gold}", "{owner: platform}"))
    planned = cli("plan", "-f", str(state))
    assert "  ~ namespace/team-a\n" in planned.out and "~ custom_metadata.tier: \"gold\" -> (none)" in planned.out
    applied(cli, state)
    assert data(bao, "sys/namespaces/team-a")["custom_metadata"] == {"owner": "platform"}
    assert_empty(cli, state)


def test_drift_inside_a_namespace_is_repaired(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, STATE)
    applied(cli, state)
    headers = {"X-Vault-Token": bao.token, "X-Vault-Namespace": "team-a"}
    requests.post(f"{bao.address}/v1/auth/approle/role/ci", json={"token_ttl": 60}, headers=headers, timeout=10)
    planned = cli("plan", "-f", str(state))
    assert "  ~ team-a:auth_role/approle/ci\n" in planned.out and "~ token_ttl: 60 -> 3600" in planned.out
    applied(cli, state)
    assert_empty(cli, state)


def test_deleting_a_namespace_is_guarded_and_lists_what_it_holds(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, STATE)
    applied(cli, state)
    without = STATE.split("  team-b:")[0].split("namespaces:\n  team-a:")[0] + "prune: {namespaces: true}\n"
    write_state(tmp_path, without + "namespaces:\n  team-b:\n    token_roles:\n      deploy: {allowed_policies: [deploy]}\n")
    planned = cli("plan", "-f", str(state))
    assert "  - namespace/team-a\n" in planned.out
    assert (
        "!! DESTROYS DATA: deletes namespace team-a and everything in it: 1 secrets engines, 1 auth methods, "
        "1 policies, 2 namespaces" in planned.out
    )
    refused = cli("apply", "-f", str(state), "--auto-approve")
    assert refused.code == 1 and "namespace/team-a: this plan deletes it, destroying its data" in refused.err
    assert get(bao, "sys/namespaces/team-a").status_code == 200
    applied(cli, state, "--allow-destroy")  # children first (OpenBao refuses otherwise), waiting for each
    assert get(bao, "sys/namespaces/team-a").status_code == 404
    assert_empty(cli, state)


def test_prevent_destroy_keeps_a_namespace(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, "version: 1\nnamespaces:\n  keep: {prevent_destroy: true}\n")
    applied(cli, state)
    assert_empty(cli, state)


def test_targets_name_objects_in_namespaces_and_whole_namespaces(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, STATE)
    one = cli("plan", "-f", str(state), "--target", "team-a/staging:policy/reader")
    assert one.code == 0, one.err
    assert "  + team-a/staging:policy/reader\n" in one.out
    assert "  + namespace/team-a\n" in one.out and "  + team-a:namespace/staging\n" in one.out  # what it needs
    assert "team-b" not in one.out and "team-a:policy/reader" not in one.out
    whole = cli("apply", "-f", str(state), "--target", "team-a:*", "--auto-approve")
    assert whole.code == 0, whole.err
    assert get(bao, "sys/namespaces/team-a").status_code == 200
    assert get(bao, "sys/namespaces/team-b").status_code == 404
    rest = cli("plan", "-f", str(state))
    assert "team-b:token_role/deploy" in rest.out and "team-a" not in rest.out


def test_a_missing_namespace_flag_is_an_error_not_an_empty_server(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, f"version: 1\npolicies:\n  reader: '{POLICY}'\n")
    result = cli("plan", "-f", str(state), "--namespace", "nope")
    assert result.code == 1
    assert result.err.strip().startswith("error: namespace 'nope' does not exist on http://127.0.0.1:")
    requests.post(f"{bao.address}/v1/sys/namespaces/nope", headers={"X-Vault-Token": bao.token}, timeout=10)
    applied(cli, state, "--namespace", "nope")
    assert data(bao, "sys/policies/acl/reader", "nope")["name"] == "reader"
    assert get(bao, "sys/policies/acl/reader").status_code == 404


def test_inside_a_namespace_prune_reads_no_server_wide_kind_and_the_file_declares_none(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    requests.post(f"{bao.address}/v1/sys/namespaces/inner", headers={"X-Vault-Token": bao.token}, timeout=10)
    state = write_state(tmp_path, f"version: 1\nprune: true\npolicies:\n  reader: '{POLICY}'\n")
    # `prune: true` covers audit devices too, which Vault lists in the root namespace only.
    planned = cli("plan", "-f", str(state), "--namespace", "inner")
    assert (planned.code, planned.err) == (0, ""), planned.err
    assert "  + policy/reader" in planned.out
    state.write_text("version: 1\nsys_config:\n  cors: {enabled: true, allowed_origins: ['https://a.example']}\n")
    refused = cli("plan", "-f", str(state), "--namespace", "inner")
    assert (refused.code, refused.out) == (1, "")
    assert refused.err == (f"{state}:3:3: sys_config/cors is server-wide: Vault configures it in the root namespace "
                           "only, and --namespace inner connects inside a namespace; declare it in a file planned at "
                           "the root\n")


def test_errors_inside_a_namespace_are_located(offline_cli: Cli, tmp_path: Path) -> None:
    state = write_state(tmp_path, "version: 1\nnamespaces:\n  a:\n    policies:\n      bad: 'path \"x\" { capabilities = [\"fly\"] }'\n    namespaces:\n      sys: {}\n")
    result = offline_cli("validate", "-f", str(state))
    assert result.code == 1
    assert result.err.splitlines() == [
        f"{state}:5:12: policy 'bad': invalid policy: path 'x': invalid capability 'fly'",
        f"{state}:7:7: invalid namespace name 'sys': a reserved name, or a space or '@' (one path segment)",
    ]


def test_a_saved_plan_applies_inside_namespaces(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, STATE)
    planfile = str(tmp_path / "plan.json")
    saved = cli("plan", "-f", str(state), "-o", planfile, "--format", "json")
    assert saved.code == 0, saved.err
    assert any(c["id"] == "team-a/staging/eu:policy/eu-reader" for c in json.loads(saved.out)["changes"])
    result = cli("apply", planfile)
    assert result.code == 0, result.out + result.err
    assert data(bao, "sys/policies/acl/eu-reader", "team-a/staging/eu")["name"] == "eu-reader"
    assert_empty(cli, state)


def test_sibling_namespaces_are_read_concurrently_within_the_parallelism(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    siblings = "".join(f"  team-{i}:\n    policies:\n      reader: '{POLICY}'\n" for i in range(6))
    state = write_state(tmp_path, f"version: 1\nnamespaces:\n{siblings}")
    applied(cli, state)
    loaded = load_state(state)
    desired = build_desired(loaded, dict(os.environ))
    gateway = ThreadCountingGateway(connection_from(bao.env()), parallelism=3)
    live = read_live(gateway, desired, loaded.state.prune, parallelism=3)
    assert not plan(desired, live, loaded.state.prune).has_changes
    assert any(name.startswith("namespaces") for name in gateway.threads)  # siblings read at once
    assert 1 < gateway.most_in_flight <= 3


class ThreadCountingGateway(CountingGateway):
    """Records which threads send requests and the most requests in flight at once."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.threads: set[str] = set()
        self.in_flight = self.most_in_flight = 0
        self.guard = threading.Lock()

    def _adapter(self) -> Any:
        adapter = super()._adapter()
        if not getattr(adapter, "counted", False):
            send, adapter.counted = adapter.request, True

            def request(*args: Any, **kwargs: Any) -> Any:
                with self.guard:
                    self.in_flight += 1
                    self.most_in_flight = max(self.most_in_flight, self.in_flight)
                    self.threads.add(threading.current_thread().name)
                try:
                    time.sleep(0.01)  # long enough for the others to overlap
                    return send(*args, **kwargs)
                finally:
                    with self.guard:
                        self.in_flight -= 1

            adapter.request = request
        return adapter


def test_export_writes_namespaces_and_round_trips(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, STATE)
    applied(cli, state)
    exported = cli("export")
    assert exported.code == 0, exported.err
    assert "namespaces:\n  team-a:\n    custom_metadata:\n      owner: team-a\n      tier: gold\n" in exported.out
    assert "\n    namespaces:\n      staging:\n" in exported.out and "\n  team-b:\n" in exported.out
    copy = tmp_path / "exported.yaml"
    copy.write_text(exported.out)
    assert_empty(cli, copy)


def test_a_declared_empty_namespace_is_read_so_prune_reaches_inside(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """`namespaces: {dev: {}}` with `prune: {policies: true}` says dev holds no policy: the plan reads
    dev (though the file declares nothing in it) and deletes what is there."""
    made = write_state(tmp_path, f"version: 1\nnamespaces:\n  dev:\n    policies:\n      stray: '{POLICY}'\n", "a.yaml")
    assert cli("apply", "-f", str(made), "--auto-approve").code == 0
    empty = write_state(tmp_path, "version: 1\nprune: {policies: true}\nnamespaces:\n  dev: {}\n", "b.yaml")
    planned = cli("plan", "-f", str(empty))
    assert planned.code == 0, planned.err
    assert "  - dev:policy/stray" in planned.out.splitlines(), planned.out
    kept = write_state(tmp_path, "version: 1\nnamespaces:\n  dev: {}\n", "c.yaml")  # no prune: nothing to do
    assert "No changes." in cli("plan", "-f", str(kept)).out
