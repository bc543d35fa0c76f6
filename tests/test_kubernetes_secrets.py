"""The kubernetes secrets engine against a real OpenBao 2.7 (which ships it) and the fake Kubernetes API.

The config points the engine at the fake API server (tests/kube_fake.py); a role bound to an
existing service account issues that account's tokens through the API's TokenRequest, the call
the real engine makes. The service account JWT is write-only and never printed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Cli, read

from tests.kube_fake import ADMIN_TOKEN, FakeKube
from vault_state.sandbox import DevServer


@pytest.fixture
def kube(certs: tuple[Path, Path, Path]) -> Iterator[FakeKube]:
    fake = FakeKube(*certs).start()
    fake.add_service_account("apps", "deployer")
    try:
        yield fake
    finally:
        fake.stop()


def state(fake: FakeKube, tmp: Path, role: dict[str, Any]) -> Path:
    engine = {
        "type": "kubernetes",
        "kubernetes": {
            "config": {
                "kubernetes_host": fake.url, "kubernetes_ca_cert": {"file": str(fake.ca), "sensitive": False},
                "service_account_jwt": {"env": "KUBE_JWT"}, "disable_local_ca_jwt": True,
            },
            "roles": {"Deployer": role},
        },
    }
    path = tmp / "state.yaml"
    path.write_text(json.dumps({"version": 1, "secrets_engines": {"k8s": engine}}, indent=1))
    return path


def test_a_service_account_role_issues_tokens_through_the_cluster(
    cli: Cli, bao: DevServer, kube: FakeKube, tmp_path: Path
) -> None:
    role = {"allowed_kubernetes_namespaces": ["Apps"], "service_account_name": "deployer",
            "token_default_ttl": "10m", "token_default_audiences": ["vault"]}
    path = state(kube, tmp_path, role)
    env = {"KUBE_JWT": ADMIN_TOKEN}
    planned = cli("plan", "-f", str(path), env=env)
    # Vault lowercases role names and namespaces: the plan shows what it will store.
    assert "+ kubernetes_secrets_role/k8s/deployer" in planned.out, planned.out
    assert 'allowed_kubernetes_namespaces = ["apps"]' in planned.out
    applied = cli("apply", "-f", str(path), "--auto-approve", env=env)
    assert applied.code == 0, applied.out + applied.err
    assert ADMIN_TOKEN not in applied.out + applied.err + planned.out
    assert cli("plan", "-f", str(path), "--detailed-exitcode", env=env).code == 0

    creds = bao.request("POST", "k8s/creds/deployer", {"kubernetes_namespace": "apps"}).json()["data"]
    assert kube.issued[creds["service_account_token"]] == ("apps", "deployer", ["vault"])
    assert creds["service_account_name"] == "deployer" and creds["service_account_namespace"] == "apps"
    assert ("POST", "/api/v1/namespaces/apps/serviceaccounts/deployer/token") in kube.calls


def test_a_role_switches_from_a_service_account_to_an_existing_cluster_role(
    cli: Cli, bao: DevServer, kube: FakeKube, tmp_path: Path
) -> None:
    env = {"KUBE_JWT": ADMIN_TOKEN}
    first = state(kube, tmp_path, {"allowed_kubernetes_namespaces": ["apps"], "service_account_name": "deployer"})
    assert cli("apply", "-f", str(first), "--auto-approve", env=env).code == 0
    second = state(kube, tmp_path, {"allowed_kubernetes_namespaces": ["apps"], "kubernetes_role_name": "edit",
                                    "kubernetes_role_type": "ClusterRole"})
    planned = cli("plan", "-f", str(second), env=env)
    assert '~ service_account_name: "deployer" -> ""' in planned.out, planned.out
    assert '~ kubernetes_role_name: "" -> "edit"' in planned.out
    applied = cli("apply", "-f", str(second), "--auto-approve", env=env)
    assert applied.code == 0, applied.out + applied.err
    assert cli("plan", "-f", str(second), "--detailed-exitcode", env=env).code == 0
    stored = read(bao, "k8s/roles/deployer")
    assert (stored["service_account_name"], stored["kubernetes_role_name"], stored["kubernetes_role_type"]) == (
        "", "edit", "ClusterRole")


def test_the_engine_is_built_in(bao: DevServer) -> None:
    """OpenBao 2.7 ships the kubernetes secrets engine: enabling it needs no plugin registration."""
    bao.request("POST", "sys/mounts/k", {"type": "kubernetes"})
    assert read(bao, "sys/mounts")["k/"]["type"] == "kubernetes"
