"""Auth methods and their roles against a real OpenBao server: kubernetes, approle, userpass, jwt, generic.

Each typed auth type is applied with every field set to a non-default value and must then plan
empty; drift made behind the tool's back must show and be repaired; removed fields must go back
to Vault's defaults; legacy names, write-only values, prune and type changes are covered too.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import requests
from conftest import EXAMPLES, REVIEWER_JWT, Cli, Result, read, write_state

from vault_state.sandbox import DevServer

CA = (EXAMPLES / "ca.crt").read_text()
PASSWORD = "hunter2-PASSWORD-SECRET-9d1e"


def plan(cli: Cli, path: Path, *extra: str, env: dict[str, str] | None = None) -> Result:
    return cli("plan", "-f", str(path), *extra, env=env)


def apply(cli: Cli, path: Path, *extra: str, env: dict[str, str] | None = None) -> Result:
    result = cli("apply", "-f", str(path), "--auto-approve", *extra, env=env)
    return result


def assert_applied(cli: Cli, path: Path, env: dict[str, str] | None = None) -> None:
    result = apply(cli, path, env=env)
    assert result.code == 0, result.out + result.err
    assert "Apply complete!" in result.out


def assert_no_changes(cli: Cli, path: Path, env: dict[str, str] | None = None) -> None:
    result = plan(cli, path, "--detailed-exitcode", env=env)
    assert result.code == 0, result.out + result.err
    assert "No changes." in result.out


def flat(text: str) -> str:
    """Output with line wrapping undone, for messages the console may wrap."""
    return re.sub(r"\s+", " ", text)


def public_key_pem(tmp_path: Path, name: str) -> str:
    """A fresh RSA public key in PEM form, made with openssl."""
    key = tmp_path / f"{name}.key"
    subprocess.run(
        ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", str(key)],
        check=True, capture_output=True,
    )
    out = subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout"], check=True, capture_output=True, text=True)
    assert out.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    return out.stdout


def indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.splitlines())


def yaml_block(text: str, spaces: int) -> str:
    """A YAML literal block scalar: `|` keeps one trailing newline, `|-` keeps none."""
    chomp = "|" if text.endswith("\n") else "|-"
    return f"{chomp}\n{indent(text, spaces)}"


# --- 1. idempotence with every typed field set to a non-default value -----------------------------


KUBERNETES_FULL = f"""
version: 1
auth_methods:
  k8s-prod:
    type: kubernetes
    description: prod cluster
    tune:
      default_lease_ttl: 30m
      max_lease_ttl: 12h
      listing_visibility: unauth
      token_type: default-batch
      passthrough_request_headers: [X-B, X-A, X-B]
      allowed_response_headers: [X-Resp]
      audit_non_hmac_request_keys: [role, jwt]
      audit_non_hmac_response_keys: [b, a]
    config:
      kubernetes_host: https://kubernetes.example.internal:6443/
      kubernetes_ca_cert: {{file: ca.crt, sensitive: false}}
      token_reviewer_jwt: {{env: TOKEN_REVIEWER_JWT}}
      pem_keys:
        - {yaml_block(CA.rstrip(chr(10)), 10)}
        - {yaml_block(CA, 10)}
      disable_local_ca_jwt: true
      disable_iss_validation: false
      issuer: https://kubernetes.default.svc
    roles:
      App-Role:
        bound_service_account_names: [web, api, web, " worker "]
        bound_service_account_namespaces: [prod, default, prod]
        audience: vault
        alias_name_source: serviceaccount_name
        token_ttl: 1h30m
        token_max_ttl: 2h
        token_explicit_max_ttl: 3h
        token_policies: [Zeta, alpha, Alpha, Default]
        token_bound_cidrs: [10.0.0.0/8, 127.0.0.1/32, 10.0.0.0/8]
        token_no_default_policy: true
        token_num_uses: 5
        token_type: service
      selector:
        bound_service_account_names: ["*"]
        bound_service_account_namespace_selector: '{{"matchLabels": {{"team": "a"}}}}'
        token_period: 45m
"""


def test_kubernetes_every_field_is_idempotent(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, KUBERNETES_FULL)
    assert_applied(cli, state)
    assert_no_changes(cli, state)
    config = read(bao, "auth/k8s-prod/config")
    assert config["kubernetes_host"] == "https://kubernetes.example.internal:6443"
    assert config["token_reviewer_jwt_set"] is True and config["disable_iss_validation"] is False
    role = read(bao, "auth/k8s-prod/role/app-role")
    assert role["token_ttl"] == 5400 and role["token_type"] == "service" and role["audience"] == "vault"
    assert role["token_policies"] == ["alpha", "default", "zeta"]
    assert "policies" not in role
    assert read(bao, "auth/k8s-prod/role/selector")["token_period"] == 2700


def test_approle_every_field_is_idempotent(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, """
version: 1
auth_methods:
  ci/approle:
    type: approle
    description: CI jobs
    tune: {default_lease_ttl: 20m, max_lease_ttl: 1h, token_type: service}
    roles:
      Deploy:
        bind_secret_id: false
        secret_id_bound_cidrs: [192.168.0.0/16, 10.0.0.0/8, 192.168.0.0/16]
        secret_id_num_uses: 3
        secret_id_ttl: 10m
        local_secret_ids: true
        token_ttl: 15m
        token_max_ttl: 30m
        token_policies: [Deploy, ci]
        token_bound_cidrs: [10.1.0.0/16, 10.0.0.0/16]
        token_num_uses: 2
        token_type: batch
        token_no_default_policy: true
        token_explicit_max_ttl: 1h
      periodic:
        token_period: 1h
        token_policies: [ci]
""")
    assert_applied(cli, state)
    assert_no_changes(cli, state)
    role = read(bao, "auth/ci/approle/role/deploy")
    assert role["secret_id_ttl"] == 600 and role["local_secret_ids"] is True and role["bind_secret_id"] is False
    assert role["token_type"] == "batch"


def test_userpass_every_field_is_idempotent(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, """
version: 1
auth_methods:
  people:
    type: userpass
    description: humans
    tune: {default_lease_ttl: 8h, max_lease_ttl: 1d, listing_visibility: hidden}
    users:
      Alice:
        password: {env: ALICE_PASSWORD}
        token_ttl: 1h30m
        token_max_ttl: 8h
        token_policies: [Admin, reader, admin]
        token_bound_cidrs: [127.0.0.1/32]
        token_num_uses: 100
        token_type: default-service
""")
    env = {"ALICE_PASSWORD": PASSWORD}
    assert_applied(cli, state, env)
    assert_no_changes(cli, state, env)
    user = read(bao, "auth/people/users/alice")
    assert user["token_ttl"] == 5400 and user["token_policies"] == ["admin", "reader"]


def jwt_state(tmp_path: Path) -> str:
    key_a = public_key_pem(tmp_path, "a")
    key_b = public_key_pem(tmp_path, "b").rstrip("\n")
    return f"""
version: 1
auth_methods:
  gha:
    type: jwt
    description: GitHub Actions
    tune: {{default_lease_ttl: 10m, max_lease_ttl: 1h}}
    config:
      jwt_validation_pubkeys:
        - {yaml_block(key_a, 10)}
        - {yaml_block(key_b, 10)}
      jwt_supported_algs: [RS512, RS256, RS256]
      bound_issuer: https://token.actions.githubusercontent.com
      default_role: deploy
      namespace_in_state: false
    roles:
      deploy:
        role_type: jwt
        user_claim: repository
        bound_audiences: [vault, https://github.com/org, vault]
        bound_subject: repo:org/app:ref:refs/heads/main
        bound_claims:
          repository_owner: org
          ref: [refs/heads/main, refs/heads/release]
        bound_claims_type: glob
        claim_mappings: {{repository: repo, actor: who}}
        groups_claim: groups
        clock_skew_leeway: 1m
        expiration_leeway: 90s
        not_before_leeway: 2m
        max_age: 1h
        verbose_oidc_logging: true
        token_ttl: 15m
        token_max_ttl: 1h
        token_policies: [CI, deploy]
      Web:
        role_type: oidc
        user_claim: sub
        user_claim_json_pointer: true
        allowed_redirect_uris: [https://b.example/cb, https://a.example/cb, https://a.example/cb]
        oidc_scopes: [profile, email, email]
        bound_audiences: [web]
"""


def test_jwt_every_field_is_idempotent(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, jwt_state(tmp_path))
    assert_applied(cli, state)
    assert_no_changes(cli, state)
    config = read(bao, "auth/gha/config")
    assert len(config["jwt_validation_pubkeys"]) == 2 and config["namespace_in_state"] is False
    role = read(bao, "auth/gha/role/deploy")
    assert role["role_type"] == "jwt" and role["clock_skew_leeway"] == 60 and role["max_age"] == 3600
    assert role["bound_claims"]["repository_owner"] == "org"
    assert role["claim_mappings"] == {"repository": "repo", "actor": "who"}


def generic_state(roles: str = "") -> str:
    """`cert` is the only built-in auth type without a typed model that works offline (OpenBao 2.7
    ships approle, cert, jwt, kubernetes, oidc, userpass); its roles live under `certs/<name>`."""
    return f"""
version: 1
auth_methods:
  tls:
    type: cert
    description: client certificates
    tune: {{default_lease_ttl: 1h}}
    config:
      disable_binding: true
      ocsp_cache_size: 200
    roles:
      web:
        certificate: {yaml_block(CA, 8)}
        display_name: web-clients
        allowed_common_names: [web.example.internal, api.example.internal]
        token_ttl: 3600
        token_policies: [web]
{roles}"""


def test_generic_type_with_free_form_config_and_roles_is_idempotent(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, generic_state())
    assert_applied(cli, state)
    assert_no_changes(cli, state)
    assert read(bao, "auth/tls/config")["ocsp_cache_size"] == 200
    role = read(bao, "auth/tls/certs/web")
    assert role["display_name"] == "web-clients" and role["token_ttl"] == 3600
