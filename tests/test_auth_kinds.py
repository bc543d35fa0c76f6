"""Auth methods and their roles against a real OpenBao server: kubernetes, approle, userpass, jwt, cert.

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
        token_type: service
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
    assert role["token_type"] == "service" and role["token_num_uses"] == 2


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
        token_bound_cidrs: [127.0.0.1/32, "2001:DB8:0:0::/32", "::1/128", 10.0.0.1/8]
        token_num_uses: 100
        token_type: service
""")
    env = {"ALICE_PASSWORD": PASSWORD}
    assert_applied(cli, state, env)
    assert_no_changes(cli, state, env)
    user = read(bao, "auth/people/users/alice")
    assert user["token_ttl"] == 5400 and user["token_policies"] == ["admin", "reader"]
    # Host CIDRs read back as bare addresses and IPv6 in compressed lowercase.
    assert sorted(user["token_bound_cidrs"]) == ["10.0.0.1/8", "127.0.0.1", "2001:db8::/32", "::1"]


@pytest.mark.parametrize("ca_newline", [True, False])
def test_kubernetes_ca_literal_and_host_slash_are_idempotent(
    ca_newline: bool, cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    ca = CA if ca_newline else CA.rstrip("\n")
    state = write_state(tmp_path, f"""
version: 1
auth_methods:
  kubernetes:
    type: kubernetes
    config:
      kubernetes_host: https://10.96.0.1:443/
      kubernetes_ca_cert: {yaml_block(ca, 8)}
      disable_local_ca_jwt: true
""")
    assert_applied(cli, state)
    assert_no_changes(cli, state)
    config = read(bao, "auth/kubernetes/config")
    assert config["token_reviewer_jwt_set"] is False and config["kubernetes_ca_cert"].strip() == CA.strip()


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


def cert_state(roles: str = "") -> str:
    """A cert auth method: its roles live under `certs/<name>`. (It was the generic type's test until
    cert got its model; OpenBao 2.7 ships no other built-in auth type: approle, cert, jwt, kubernetes,
    oidc, userpass.)"""
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
        certificate: {yaml_block(CA, 10)}
        display_name: web-clients
        allowed_common_names: [web.example.internal, api.example.internal]
        token_ttl: 3600
        token_policies: [web]
{roles}"""


def test_cert_config_and_roles_are_idempotent(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, cert_state())
    assert_applied(cli, state)
    assert_no_changes(cli, state)
    assert read(bao, "auth/tls/config")["ocsp_cache_size"] == 200
    role = read(bao, "auth/tls/certs/web")
    assert role["display_name"] == "web-clients" and role["token_ttl"] == 3600



def test_approle_local_secret_ids_change_recreates_the_role(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """local_secret_ids can only be sent when a role is created: updates leave it out, and a change
    to it deletes and re-creates the role, which gives it a new role_id and revokes its secret IDs:
    destroy-guarded like a mount replace."""
    text = APPROLE.replace("        secret_id_ttl: 10m\n", "        secret_id_ttl: 10m\n        local_secret_ids: true\n")
    state = write_state(tmp_path, text)
    assert_applied(cli, state)
    role_id = read(bao, "auth/approle/role/ci/role-id")["role_id"]
    write_state(tmp_path, text.replace("token_ttl: 20m", "token_ttl: 30m"))
    assert_applied(cli, state)  # an update: must not carry local_secret_ids
    assert read(bao, "auth/approle/role/ci")["token_ttl"] == 1800
    assert read(bao, "auth/approle/role/ci/role-id")["role_id"] == role_id

    secret_id = bao.request("POST", "auth/approle/role/ci/secret-id").json()["data"]["secret_id"]

    write_state(tmp_path, APPROLE)
    replacing = plan(cli, state)
    assert "  -/+ auth_role/approle/ci\n" in replacing.out
    assert "local_secret_ids can only be set when the role is created" in flat(replacing.out)
    assert "~ local_secret_ids: true -> false" in replacing.out
    assert (
        "!! DESTROYS DATA: deletes and re-creates auth_role/approle/ci: its role_id changes and every secret ID "
        "issued for it stops working" in flat(replacing.out)
    )
    refused = apply(cli, state)
    assert refused.code == 1 and "nothing was changed" in flat(refused.err)
    assert (
        "auth_role/approle/ci: this plan replaces (deletes and re-creates) it, destroying its data; "
        "pass --allow-destroy" in flat(refused.err)
    )
    assert read(bao, "auth/approle/role/ci/role-id")["role_id"] == role_id

    guarded = APPROLE.replace("      ci:\n", "      ci:\n        prevent_destroy: true\n")
    write_state(tmp_path, guarded)
    never = apply(cli, state, "--allow-destroy")
    assert never.code == 1 and "auth_role/approle/ci has prevent_destroy: true" in flat(never.err)
    assert read(bao, "auth/approle/role/ci/role-id")["role_id"] == role_id

    write_state(tmp_path, APPROLE)
    done = apply(cli, state, "--allow-destroy")
    assert done.code == 0, done.out + done.err
    assert_no_changes(cli, state)
    with pytest.raises(RuntimeError, match="400"):  # the old credentials are gone: why the guard exists
        bao.request("POST", "auth/approle/login", {"role_id": role_id, "secret_id": secret_id})
    role = read(bao, "auth/approle/role/ci")
    assert role["local_secret_ids"] is False and role["secret_id_ttl"] == 600
    assert read(bao, "auth/approle/role/ci/role-id")["role_id"] != role_id


# --- 2. drift behind the tool's back ---------------------------------------------------------------


K8S = """
version: 1
auth_methods:
  k8s:
    type: kubernetes
    tune: {default_lease_ttl: 1h}
    config:
      kubernetes_host: https://kubernetes.example.internal
      kubernetes_ca_cert: {file: ca.crt, sensitive: false}
      token_reviewer_jwt: {env: TOKEN_REVIEWER_JWT}
    roles:
      app:
        bound_service_account_names: [app]
        bound_service_account_namespaces: [prod]
        token_policies: [app]
        token_ttl: 1h
        token_max_ttl: 4h
        audience: vault
      other:
        bound_service_account_names: [other]
        bound_service_account_namespaces: [prod]
"""


def test_kubernetes_drift_shows_in_plan_and_apply_repairs_it(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, K8S)
    assert_applied(cli, state)
    bao.request("POST", "auth/k8s/role/app", {"token_ttl": "2h", "bound_service_account_names": ["app", "intruder"]})
    bao.request("DELETE", "auth/k8s/role/other")
    bao.request("POST", "sys/auth/k8s/tune", {"default_lease_ttl": "2h", "description": "changed by hand"})
    bao.request("POST", "auth/k8s/config", {
        "kubernetes_host": "https://elsewhere.example.internal", "kubernetes_ca_cert": CA, "token_reviewer_jwt": "x",
        "disable_local_ca_jwt": True,
    })

    drift = plan(cli, state, "--detailed-exitcode")
    assert drift.code == 2, drift.out + drift.err
    assert "  ~ auth_role/k8s/app\n" in drift.out
    assert "~ token_ttl: 7200 -> 3600" in drift.out
    assert '~ bound_service_account_names: ["app", "intruder"] -> ["app"]' in drift.out
    assert "  + auth_role/k8s/other\n" in drift.out
    assert "  ~ auth_method/k8s\n" in drift.out
    assert "~ tune.default_lease_ttl: 7200 -> 3600" in drift.out
    assert '~ description: "changed by hand" -> ""' in drift.out
    assert '~ config.kubernetes_host: "https://elsewhere.example.internal" -> "https://kubernetes.example.internal"' \
        in drift.out
    assert '~ config.disable_local_ca_jwt: true -> false' in drift.out
    assert "Plan: 1 to add, 2 to change, 0 to destroy." in drift.out

    assert_applied(cli, state)
    assert_no_changes(cli, state)
    assert read(bao, "auth/k8s/role/app")["token_ttl"] == 3600
    assert read(bao, "auth/k8s/role/other")["bound_service_account_names"] == ["other"]
    assert read(bao, "auth/k8s/config")["token_reviewer_jwt_set"] is True
    assert read(bao, "sys/auth/k8s/tune")["default_lease_ttl"] == 3600


APPROLE = """
version: 1
auth_methods:
  approle:
    type: approle
    roles:
      ci:
        token_policies: [ci]
        token_ttl: 20m
        token_max_ttl: 1h
        secret_id_ttl: 10m
        secret_id_num_uses: 5
        secret_id_bound_cidrs: [10.0.0.0/8]
      spare:
        token_policies: [ci]
"""

USERPASS = """
version: 1
auth_methods:
  userpass:
    type: userpass
    users:
      alice:
        password: {env: ALICE_PASSWORD}
        token_policies: [reader]
        token_ttl: 1h
        token_max_ttl: 2h
      bob:
        password: {env: ALICE_PASSWORD}
"""


def jwt_roles_state(tmp_path: Path, role_extra: str = "") -> str:
    key = public_key_pem(tmp_path, "jwt")
    return f"""
version: 1
auth_methods:
  jwt:
    type: jwt
    config:
      jwt_validation_pubkeys:
        - {yaml_block(key, 10)}
      bound_issuer: https://issuer.example
    roles:
      ci:
        role_type: jwt
        user_claim: sub
        bound_audiences: [vault]
        bound_claims: {{repo: org/app}}
        token_policies: [ci]
        token_ttl: 15m
{role_extra}      spare:
        role_type: jwt
        user_claim: sub
        bound_subject: spare
"""


@pytest.mark.parametrize("kind", ["approle", "userpass", "jwt", "cert"])
def test_role_drift_and_deleted_role_are_repaired(
    kind: str, cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    # mount, role segment, the role to change (and its token_ttl in the file), the role to delete
    mount, segment, name, ttl, spare = {
        "approle": ("approle", "role", "ci", 1200, "spare"),
        "userpass": ("userpass", "users", "alice", 3600, "bob"),
        "jwt": ("jwt", "role", "ci", 900, "spare"),
        "cert": ("tls", "certs", "web", 3600, "spare"),
    }[kind]
    text = {
        "approle": lambda: APPROLE,
        "userpass": lambda: USERPASS,
        "jwt": lambda: jwt_roles_state(tmp_path),
        "cert": lambda: cert_state(f"      spare:\n        certificate: {yaml_block(CA, 10)}\n        token_ttl: 60\n"),
    }[kind]()
    env = {"ALICE_PASSWORD": PASSWORD}
    state = write_state(tmp_path, text)
    assert_applied(cli, state, env)
    assert_no_changes(cli, state, env)
    drift: dict[str, object] = {"token_ttl": 1800, "token_policies": ["ci", "root-ish"]}
    if kind == "jwt":
        drift["role_type"] = "jwt"  # a jwt role update without it fails: role_type then defaults to oidc
    bao.request("POST", f"auth/{mount}/{segment}/{name}", drift)
    bao.request("DELETE", f"auth/{mount}/{segment}/{spare}")

    shown = plan(cli, state, "--detailed-exitcode", env=env)
    assert shown.code == 2, shown.out + shown.err
    assert f"  ~ auth_role/{mount}/{name}\n" in shown.out
    assert f"~ token_ttl: 1800 -> {ttl}" in shown.out
    assert "~ token_policies: " in shown.out and '"root-ish"' in shown.out
    assert f"  + auth_role/{mount}/{spare}\n" in shown.out

    assert_applied(cli, state, env)
    assert_no_changes(cli, state, env)
    assert read(bao, f"auth/{mount}/{segment}/{name}")["token_ttl"] == ttl
    assert read(bao, f"auth/{mount}/{segment}/{spare}")


# --- 3. removing a field resets it to Vault's default -------------------------------------------


def test_removed_kubernetes_role_fields_go_back_to_defaults(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, K8S)
    assert_applied(cli, state)
    role = read(bao, "auth/k8s/role/app")
    assert role["token_max_ttl"] == 14400 and role["audience"] == "vault" and role["token_policies"] == ["app"]

    write_state(tmp_path, K8S.replace("        token_max_ttl: 4h\n", "").replace("        audience: vault\n", "")
                .replace("        token_policies: [app]\n", ""))
    removal = plan(cli, state)
    assert "~ token_max_ttl: 14400 -> 0" in removal.out
    assert '~ audience: "vault" -> ""' in removal.out
    assert '~ token_policies: ["app"] -> []' in removal.out
    assert_applied(cli, state)
    assert_no_changes(cli, state)
    role = read(bao, "auth/k8s/role/app")
    assert role["token_max_ttl"] == 0 and role.get("audience", "") == "" and role["token_policies"] == []
    assert role["token_ttl"] == 3600  # the fields still in the file are kept


def test_removed_approle_and_userpass_fields_go_back_to_defaults(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    env = {"ALICE_PASSWORD": PASSWORD}
    state = write_state(tmp_path, APPROLE + USERPASS.split("auth_methods:\n", 1)[1])
    assert_applied(cli, state, env)
    assert read(bao, "auth/approle/role/ci")["secret_id_ttl"] == 600

    trimmed = APPROLE.replace("        secret_id_ttl: 10m\n", "").replace("        secret_id_num_uses: 5\n", "")
    trimmed = trimmed.replace("        secret_id_bound_cidrs: [10.0.0.0/8]\n", "")
    users = USERPASS.split("auth_methods:\n", 1)[1].replace("        token_max_ttl: 2h\n", "")
    write_state(tmp_path, trimmed + users)
    removal = plan(cli, state, env=env)
    assert "~ secret_id_ttl: 600 -> 0" in removal.out and "~ token_max_ttl: 7200 -> 0" in removal.out
    assert_applied(cli, state, env)
    assert_no_changes(cli, state, env)
    role = read(bao, "auth/approle/role/ci")
    assert role["secret_id_ttl"] == 0 and role["secret_id_num_uses"] == 0
    assert not role["secret_id_bound_cidrs"]
    assert read(bao, "auth/userpass/users/alice")["token_max_ttl"] == 0


def test_removed_jwt_role_fields_go_back_to_defaults(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    extra = (
        "        claim_mappings: {actor: who}\n        groups_claim: groups\n"
        "        bound_subject: repo:org/app\n        clock_skew_leeway: 30s\n"
    )
    state = write_state(tmp_path, jwt_roles_state(tmp_path, extra))
    assert_applied(cli, state)
    assert read(bao, "auth/jwt/role/ci")["claim_mappings"] == {"actor": "who"}

    text = state.read_text()
    for line in [*extra.splitlines(keepends=True), "        bound_claims: {repo: org/app}\n"]:
        text = text.replace(line, "")
    state.write_text(text)
    assert_applied(cli, state)
    assert_no_changes(cli, state)
    role = read(bao, "auth/jwt/role/ci")
    assert not role["claim_mappings"] and not role["bound_claims"]
    assert role["groups_claim"] == "" and role["bound_subject"] == "" and role["clock_skew_leeway"] == 0
    assert role["bound_audiences"] == ["vault"]


# --- 4. legacy aliases ------------------------------------------------------------------------------


LEGACY = """
version: 1
auth_methods:
  k8s:
    type: kubernetes
    roles:
      app:
        bound_service_account_names: [app]
        bound_service_account_namespaces: [prod]
        policies: [app, Reader]
        ttl: 1h
        max_ttl: 2h
        period: 0
        num_uses: 3
        bound_cidrs: [10.0.0.0/8]
"""


def test_legacy_aliases_are_written_as_token_fields(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, LEGACY)
    assert_applied(cli, state)
    assert_no_changes(cli, state)
    role = read(bao, "auth/k8s/role/app")
    assert role["token_policies"] == ["app", "reader"] and role["token_ttl"] == 3600
    assert role["token_max_ttl"] == 7200 and role["token_num_uses"] == 3
    for legacy in ("policies", "ttl", "max_ttl", "period", "num_uses", "bound_cidrs"):
        assert legacy not in role


@pytest.mark.parametrize("names", ["legacy", "token"])
def test_role_created_by_hand_with_legacy_names_shows_no_diff(
    names: str, cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    bao.request("POST", "sys/auth/k8s", {"type": "kubernetes"})
    bao.request("POST", "auth/k8s/role/app", {
        "bound_service_account_names": ["app"], "bound_service_account_namespaces": ["prod"],
        "policies": ["Reader", "app"], "ttl": "1h", "max_ttl": "2h", "num_uses": 3, "bound_cidrs": ["10.0.0.0/8"],
    })
    assert "policies" in read(bao, "auth/k8s/role/app")
    text = LEGACY.replace("        period: 0\n", "")
    if names == "token":
        for legacy in ("policies", "ttl", "max_ttl", "num_uses", "bound_cidrs"):
            text = text.replace(f"        {legacy}:", f"        token_{legacy}:")
    state = write_state(tmp_path, text)
    assert_no_changes(cli, state)


# --- 5. write-only values ---------------------------------------------------------------------------


def test_userpass_password_is_never_printed_and_logs_in(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    env = {"ALICE_PASSWORD": PASSWORD}
    state = write_state(tmp_path, USERPASS)
    outputs = [plan(cli, state, env=env), plan(cli, state, "--json", env=env), apply(cli, state, env=env)]
    for result in outputs:
        assert result.code == 0, result.out + result.err
        assert PASSWORD not in result.out + result.err
    assert "password = (sensitive)" in outputs[0].out
    document = json.loads(outputs[1].out)
    user = next(c for c in document["changes"] if c["id"] == "auth_role/userpass/alice")
    assert PASSWORD not in json.dumps(user)
    for result in (plan(cli, state, env=env), plan(cli, state, "--json", env=env)):
        assert PASSWORD not in result.out + result.err

    login = requests.post(f"{bao.address}/v1/auth/userpass/login/alice", json={"password": PASSWORD}, timeout=10)
    assert login.status_code == 200, login.text
    assert "reader" in login.json()["auth"]["policies"]
    wrong = requests.post(f"{bao.address}/v1/auth/userpass/login/alice", json={"password": "nope"}, timeout=10)
    assert wrong.status_code == 400


def test_reviewer_jwt_never_printed_and_dropping_it_warns(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, K8S)
    outputs = [plan(cli, state), plan(cli, state, "--json"), apply(cli, state)]
    bao.request("POST", "auth/k8s/role/app", {"token_ttl": "2h"})  # so the next plan and apply print something
    outputs += [plan(cli, state), plan(cli, state, "--json"), apply(cli, state)]
    for result in outputs:
        assert result.code == 0, result.out + result.err
        assert REVIEWER_JWT not in result.out + result.err
    assert read(bao, "auth/k8s/config")["token_reviewer_jwt_set"] is True

    write_state(tmp_path, K8S.replace("      token_reviewer_jwt: {env: TOKEN_REVIEWER_JWT}\n", ""))
    dropped = plan(cli, state, "--detailed-exitcode")
    assert dropped.code == 2
    assert "CLEARS the token_reviewer_jwt" in flat(dropped.out)
    assert "~ config.token_reviewer_jwt_set: true -> false" in dropped.out
    document = json.loads(plan(cli, state, "--json").out)
    change = next(c for c in document["changes"] if c["id"] == "auth_method/k8s")
    assert any("CLEARS the token_reviewer_jwt" in w for w in change["warnings"])
    assert_applied(cli, state)
    assert read(bao, "auth/k8s/config")["token_reviewer_jwt_set"] is False
    assert_no_changes(cli, state)


# --- 6. prune -----------------------------------------------------------------------------------------


def stray_roles(bao: DevServer) -> None:
    """A role made by hand under the managed k8s/, and one under an auth method the file lacks."""
    bao.request("POST", "auth/k8s/role/stray", {
        "bound_service_account_names": ["x"], "bound_service_account_namespaces": ["x"],
    })
    bao.request("POST", "sys/auth/unmanaged", {"type": "approle"})
    bao.request("POST", "auth/unmanaged/role/keep", {"token_ttl": "1h"})


def test_prune_deletes_hand_made_roles_under_managed_methods_only(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    state = write_state(tmp_path, K8S + "prune: {auth_roles: true}\n")
    assert_applied(cli, state)
    stray_roles(bao)

    pruning = plan(cli, state, "--detailed-exitcode")
    assert pruning.code == 2
    assert "  - auth_role/k8s/stray\n" in pruning.out
    assert "unmanaged" not in pruning.out
    assert "Plan: 0 to add, 0 to change, 1 to destroy." in pruning.out
    assert_applied(cli, state)
    assert read(bao, "auth/k8s/role/stray") == {}
    assert read(bao, "auth/unmanaged/role/keep")["token_ttl"] == 3600
    assert read(bao, "auth/k8s/role/app")
    assert_no_changes(cli, state)


def test_without_prune_hand_made_roles_are_left_alone(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, K8S)
    assert_applied(cli, state)
    stray_roles(bao)
    assert_no_changes(cli, state)
    result = apply(cli, state)
    assert result.code == 0 and "No changes." in result.out
    assert read(bao, "auth/k8s/role/stray")
    assert read(bao, "auth/unmanaged/role/keep")


# --- 7. changing an auth method's type --------------------------------------------------------------


def test_type_change_is_a_replace_that_needs_allow_destroy(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, K8S)
    assert_applied(cli, state)
    write_state(tmp_path, """
version: 1
auth_methods:
  k8s:
    type: approle
    roles:
      app:
        token_policies: [app]
        token_ttl: 1h
        secret_id_ttl: 10m
""")
    replacing = plan(cli, state, "--detailed-exitcode")
    assert replacing.code == 2
    assert "  -/+ auth_method/k8s\n" in replacing.out
    assert "type cannot change" in flat(replacing.out)
    assert "DESTROYS DATA" in replacing.out
    assert "  + auth_role/k8s/app\n" in replacing.out
    assert "auth_role/k8s/other" not in replacing.out  # goes with the old method

    refused = apply(cli, state)
    assert refused.code == 1
    assert "nothing was changed" in flat(refused.err)
    assert "--allow-destroy" in flat(refused.err)
    assert read(bao, "sys/auth/k8s")["type"] == "kubernetes"
    assert read(bao, "auth/k8s/role/app")["bound_service_account_names"] == ["app"]
    assert read(bao, "auth/k8s/role/other")

    done = apply(cli, state, "--allow-destroy")
    assert done.code == 0, done.out + done.err
    assert read(bao, "sys/auth/k8s")["type"] == "approle"
    role = read(bao, "auth/k8s/role/app")
    assert role["secret_id_ttl"] == 600 and role["token_ttl"] == 3600 and "bound_service_account_names" not in role
    assert read(bao, "auth/k8s/role/other") == {}
    assert_no_changes(cli, state)
