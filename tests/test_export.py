"""`vault-state export` against a real OpenBao server: a server configured by hand exports to a
state file that validates, holds no secret, and plans empty against the same server."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, REVIEWER_JWT, Cli, read
from ruamel.yaml import YAML

from vault_state.export import env_name, render
from vault_state.plan.model import Resource, ResourceId
from vault_state.sandbox import DevServer
from vault_state.spec.loader import load_text

CA = (EXAMPLES / "ca.crt").read_text()
PASSWORD = "hunter2-PASSWORD-SECRET-export-77a1"
DEFAULT_EXTRA = '\npath "apps/data/shared/*" {\n  capabilities = ["read"]\n}\n'
ENV = {
    "K8S_PROD_TOKEN_REVIEWER_JWT": "any-value",
    "USERPASS_PEOPLE_ALICE_PASSWORD": "any-value",
}


def public_key_pem(tmp_path: Path) -> str:
    key = tmp_path / "signing.key"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)],
        check=True, capture_output=True,
    )
    out = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout"], check=True, capture_output=True, text=True)
    return out.stdout


def configure(bao: DevServer, pubkey: str) -> None:
    """Every supported kind with non-default fields, set through the API, not through vault-state."""
    call = bao.request
    call("POST", "sys/mounts/apps", {
        "type": "kv", "options": {"version": "2"}, "description": "apps kv",
        "config": {"default_lease_ttl": "1h", "max_lease_ttl": "24h", "listing_visibility": "unauth",
                   "passthrough_request_headers": ["X-B", "X-A"]},
    })
    call("POST", "apps/config", {"max_versions": 3, "cas_required": True, "delete_version_after": "768h"})
    call("POST", "sys/mounts/legacy", {"type": "kv", "options": {"version": "1"}})
    call("POST", "sys/mounts/transit", {"type": "transit", "config": {"max_lease_ttl": "90m"}})
    call("PUT", "sys/policies/acl/eso-policy", {"policy": 'path "apps/data/*" {\n  capabilities = ["read"]\n}\n'})
    default = read(bao, "sys/policies/acl/default")["policy"]
    call("PUT", "sys/policies/acl/default", {"policy": default + DEFAULT_EXTRA})

    call("POST", "sys/auth/k8s-prod", {
        "type": "kubernetes", "description": "prod cluster",
        "config": {"default_lease_ttl": "30m", "token_type": "default-batch"},
    })
    call("POST", "auth/k8s-prod/config", {
        "kubernetes_host": "https://kubernetes.example.internal:6443", "kubernetes_ca_cert": CA,
        "token_reviewer_jwt": REVIEWER_JWT, "issuer": "https://kubernetes.default.svc",
        "disable_iss_validation": False,
    })
    call("POST", "auth/k8s-prod/role/app", {
        "bound_service_account_names": ["web", "api", "worker"], "bound_service_account_namespaces": ["prod"],
        "audience": "vault", "token_ttl": "1h30m", "token_policies": ["eso-policy", "default"],
    })
    call("POST", "sys/auth/ci/approle", {"type": "approle"})
    call("POST", "auth/ci/approle/role/deploy", {
        "secret_id_ttl": "10m", "token_policies": ["eso-policy"], "token_bound_cidrs": ["10.0.0.0/8"],
        "token_max_ttl": "2h",
    })
    call("POST", "sys/auth/people", {"type": "userpass"})
    call("POST", "auth/people/users/alice", {"password": PASSWORD, "token_policies": ["eso-policy"]})
    call("POST", "sys/auth/gha", {"type": "jwt", "description": "GitHub Actions"})
    call("POST", "auth/gha/config", {"jwt_validation_pubkeys": [pubkey], "bound_issuer": "https://token.actions"})
    call("POST", "auth/gha/role/deploy", {
        "role_type": "jwt", "user_claim": "sub", "bound_audiences": ["https://github.com/org"],
        "bound_claims": {"repository_owner": "org"}, "claim_mappings": {"repository": "repo"},
        "clock_skew_leeway": 60, "token_policies": ["eso-policy"],
    })
    call("POST", "sys/auth/tls", {"type": "cert", "config": {"default_lease_ttl": "1h"}})
    call("POST", "auth/tls/config", {"disable_binding": True, "ocsp_cache_size": 200})
    call("POST", "auth/tls/certs/web", {
        "certificate": CA, "display_name": "web-clients", "token_ttl": 3600, "token_policies": ["eso-policy"],
    })


def load(path: Path) -> dict[str, object]:
    data = YAML(typ="safe", pure=True).load(path.read_text())
    assert isinstance(data, dict)
    return data


def test_export_round_trips_to_an_empty_plan(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    pubkey = public_key_pem(tmp_path)
    configure(bao, pubkey)
    out = tmp_path / "exported.yaml"
    result = cli("export", "-o", str(out))
    assert result.code == 0, result.err
    assert result.out == ""
    assert "K8S_PROD_TOKEN_REVIEWER_JWT" in result.err and "USERPASS_PEOPLE_ALICE_PASSWORD" in result.err
    text = out.read_text()

    validated = cli("validate", "-f", str(out))
    assert validated.code == 0, validated.out + validated.err
    plan = cli("plan", "-f", str(out), "--detailed-exitcode", env=ENV)
    assert plan.code == 0, text + plan.out + plan.err
    assert "No changes." in plan.out

    assert PASSWORD not in text and REVIEWER_JWT not in text
    data = load(out)
    assert set(data) == {"version", "secrets_engines", "policies", "auth_methods"}
    engines, policies, methods = data["secrets_engines"], data["policies"], data["auth_methods"]
    assert isinstance(engines, dict) and isinstance(policies, dict) and isinstance(methods, dict)
    assert set(engines) == {"apps", "legacy", "transit"}  # no sys, identity, cubbyhole
    assert set(policies) == {"default", "eso-policy"}  # never root
    assert policies["default"].endswith(DEFAULT_EXTRA)
    assert set(methods) == {"k8s-prod", "ci/approle", "people", "gha", "tls"}  # never token
    assert engines["apps"] == {
        "type": "kv", "version": 2, "description": "apps kv",
        "tune": {"default_lease_ttl": "1h", "max_lease_ttl": "1d", "listing_visibility": "unauth",
                 "passthrough_request_headers": ["X-A", "X-B"]},
        "kv_config": {"max_versions": 3, "cas_required": True, "delete_version_after": "32d"},
    }
    assert engines["legacy"] == {"type": "kv", "version": 1}
    assert engines["transit"] == {"type": "transit", "tune": {"max_lease_ttl": "1h30m"}}
    k8s = methods["k8s-prod"]
    assert k8s["tune"] == {"default_lease_ttl": "30m", "token_type": "default-batch"}
    assert k8s["config"]["token_reviewer_jwt"] == {"env": "K8S_PROD_TOKEN_REVIEWER_JWT"}
    assert k8s["config"]["kubernetes_ca_cert"] == CA
    assert k8s["roles"]["app"] == {
        "bound_service_account_names": ["api", "web", "worker"], "bound_service_account_namespaces": ["prod"],
        "audience": "vault", "token_ttl": "1h30m", "token_policies": ["default", "eso-policy"],
    }
    assert methods["ci/approle"]["roles"]["deploy"] == {
        "token_max_ttl": "2h", "token_policies": ["eso-policy"], "token_bound_cidrs": ["10.0.0.0/8"],
        "secret_id_ttl": "10m",
    }
    assert methods["people"]["users"]["alice"] == {
        "password": {"env": "USERPASS_PEOPLE_ALICE_PASSWORD"}, "token_policies": ["eso-policy"],
    }
    assert methods["gha"]["config"] == {"jwt_validation_pubkeys": [pubkey.strip() + "\n"], "bound_issuer": "https://token.actions"}
    assert methods["gha"]["roles"]["deploy"]["clock_skew_leeway"] == "1m"
    assert methods["tls"]["config"]["ocsp_cache_size"] == 200
    assert "policies" not in methods["tls"]["roles"]["web"]  # legacy mirror of token_policies left out
    # comments and literal blocks for the reader
    assert "# write-only: set K8S_PROD_TOKEN_REVIEWER_JWT" in text
    assert "# write-only: set USERPASS_PEOPLE_ALICE_PASSWORD" in text
    assert "  eso-policy: |\n" in text and "kubernetes_ca_cert: |\n" in text


def test_export_applies_to_a_fresh_server(cli: Cli, bao: DevServer, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    configure(bao, public_key_pem(tmp_path))
    out = tmp_path / "exported.yaml"
    assert cli("export", "-o", str(out)).code == 0
    other = DevServer().start()
    try:
        target = Cli(capsys, monkeypatch, other)
        applied = target("apply", "-f", str(out), "--auto-approve", env=ENV)
        assert applied.code == 0, applied.out + applied.err
        plan = target("plan", "-f", str(out), "--detailed-exitcode", env=ENV)
        assert plan.code == 0, plan.out + plan.err
        assert read(other, "auth/k8s-prod/config")["token_reviewer_jwt_set"] is True
    finally:
        other.stop()


def test_export_of_an_empty_server_prints_to_stdout(cli: Cli, tmp_path: Path) -> None:
    result = cli("export")
    assert result.code == 0, result.err
    assert result.out.startswith("# Exported by `vault-state export` from http://127.0.0.1:")
    path = tmp_path / "state.yaml"
    path.write_text(result.out)
    data = load(path)
    assert data["version"] == 1 and set(data) == {"version", "policies"}
    assert set(data["policies"]) == {"default"}  # type: ignore[arg-type]
    assert cli("plan", "-f", str(path), "--detailed-exitcode").code == 0


def test_export_forbidden_and_unreachable_are_errors(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    bao.request("PUT", "sys/policies/acl/mounts-only", {"policy": 'path "sys/mounts" { capabilities = ["read"] }'})
    token = bao.request("POST", "auth/token/create", {"policies": ["mounts-only"]}).json()["auth"]["client_token"]
    out = tmp_path / "exported.yaml"
    result = cli("export", "-o", str(out), "--token", token)
    assert result.code == 1
    assert "permission denied" in result.err and "  GET sys/auth\n" in result.err and not out.exists()
    result = cli("export", "--address", "http://127.0.0.1:1")
    assert result.code == 1 and "cannot reach" in result.err


def test_oidc_client_secret_becomes_an_env_source_and_invalid_entries_are_skipped() -> None:
    """Offline: an oidc config with a client id (its secret is write-only) and a kubernetes method
    enabled with an unusable config; the rendered file still validates."""
    base = {"description": "", "local": False, "seal_wrap": False, "tune": {"default_lease_ttl": 0, "token_type": "default-service"}}
    oidc_config = {
        "oidc_discovery_url": "https://idp.example", "oidc_discovery_ca_pem": "", "oidc_client_id": "vault",
        "oidc_response_mode": "", "jwks_url": "", "jwks_ca_pem": "", "bound_issuer": "", "default_role": "web",
        "oidc_response_types": [], "jwt_supported_algs": [], "jwt_validation_pubkeys": [], "namespace_in_state": True,
    }
    k8s_config = {"kubernetes_host": "", "kubernetes_ca_cert": "", "pem_keys": [], "disable_local_ca_jwt": False,
                  "disable_iss_validation": True, "issuer": "", "token_reviewer_jwt_set": False}
    live = {
        ResourceId("auth_method", "sso/oidc"): Resource(ResourceId("auth_method", "sso/oidc"),
                                                        {**base, "type": "oidc", "config": oidc_config}),
        ResourceId("auth_method", "k8s"): Resource(ResourceId("auth_method", "k8s"),
                                                   {**base, "type": "kubernetes", "config": k8s_config}),
    }
    exported = render(live)
    assert env_name("sso/oidc", "OIDC_CLIENT_SECRET") == "SSO_OIDC_OIDC_CLIENT_SECRET"
    assert exported.env == ["SSO_OIDC_OIDC_CLIENT_SECRET"]
    assert "oidc_client_secret: {env: SSO_OIDC_OIDC_CLIENT_SECRET}  # write-only: set SSO_OIDC_OIDC_CLIENT_SECRET" in exported.text
    assert exported.skipped and exported.skipped[0].startswith("auth_methods.k8s.config: ")
    state = load_text(exported.text, "exported.yaml").state
    assert state.auth_methods["k8s"].config is None  # type: ignore[union-attr]
    assert state.auth_methods["sso/oidc"].config.default_role == "web"  # type: ignore[union-attr]
