"""The quirks of cert auth, approle's role_id, userpass password hashes, jwt key sources and mount
options, against a real OpenBao server (every field's round trip is in test_fields_round_trip.py).

Logins prove the configuration works: a jwt token signed by the local OIDC provider
(tests/oidc_fake.py), a client certificate over a TLS listener, a userpass password whose bcrypt
hash is all the file holds.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import requests
from conftest import EXAMPLES, Cli, read, write_state
from oidc_fake import FakeOidc
from test_auth_kinds import assert_applied, assert_no_changes, plan, yaml_block
from test_tls import TlsServer, tls_bao  # noqa: F401 (a fixture)

from vault_state.kinds.auth_role import KIND
from vault_state.plan.model import Action, Call, Change, Resource, ResourceId
from vault_state.sandbox import DevServer

CA = (EXAMPLES / "ca.crt").read_text()
# bcrypt of HASHED_PASSWORD (cost 10), as `htpasswd -B` or Python's crypt make it.
HASHED_PASSWORD = "hash-login-pass-1"
PASSWORD_HASH = "$2b$10$TyJvaO34Ke1z73wiFbh.HO0Xdmr19Ra8PmGGK8mVtnzJGc9TyJIeq"


def login(bao: DevServer, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{bao.address}/v1/{path}", json=body, timeout=10)


# --- approle role_id ------------------------------------------------------------------------------

APPROLE = """
version: 1
auth_methods:
  approle:
    type: approle
    roles:
      ci:
        role_id: {env: CI_ROLE_ID, sensitive: false}
        token_ttl: 20m
      generated:
        token_ttl: 5m
"""


def test_a_declared_role_id_is_written_read_back_from_role_id_and_repaired(
    cli: Cli, bao: DevServer, tmp_path: Path
) -> None:
    env = {"CI_ROLE_ID": "ci-fixed-0001"}
    state = write_state(tmp_path, APPROLE)
    assert_applied(cli, state, env)
    assert read(bao, "auth/approle/role/ci/role-id")["role_id"] == "ci-fixed-0001"
    generated = read(bao, "auth/approle/role/generated/role-id")["role_id"]
    assert_no_changes(cli, state, env)  # the generated one is not compared: the file gives none

    bao.request("POST", "auth/approle/role/ci/role-id", {"role_id": "changed-by-hand"})
    drifted = plan(cli, state, env=env)
    assert '~ role_id: "changed-by-hand" -> "ci-fixed-0001"' in drifted.out, drifted.out
    assert_applied(cli, state, env)
    assert read(bao, "auth/approle/role/ci/role-id")["role_id"] == "ci-fixed-0001"
    assert read(bao, "auth/approle/role/ci")["token_ttl"] == 1200  # the role itself kept its fields

    # Removing role_id from the file leaves the server's: nothing to change, nothing regenerated.
    write_state(tmp_path, APPROLE.replace("        role_id: {env: CI_ROLE_ID, sensitive: false}\n", ""))
    assert_no_changes(cli, state, env)
    assert read(bao, "auth/approle/role/ci/role-id")["role_id"] == "ci-fixed-0001"
    assert read(bao, "auth/approle/role/generated/role-id")["role_id"] == generated

    secret = bao.request("POST", "auth/approle/role/ci/secret-id").json()["data"]["secret_id"]
    logged_in = login(bao, "auth/approle/login", {"role_id": "ci-fixed-0001", "secret_id": secret})
    assert logged_in.status_code == 200, logged_in.text


def test_role_id_is_written_to_its_sub_path_after_the_role_and_only_when_it_changes() -> None:
    rid = ResourceId("auth_role", "approle/ci")
    path = "auth/approle/role/ci"
    before = Resource(rid, {"token_ttl": 60, "role_id": "first"}, api_path=path)
    same = Resource(rid, {"token_ttl": 90, "role_id": "first"}, api_path=path)
    other = Resource(rid, {"token_ttl": 60, "role_id": "second"}, api_path=path)
    assert KIND.calls(Change(rid, Action.UPDATE, before, same)) == [Call("POST", path, {"token_ttl": 90})]
    assert KIND.calls(Change(rid, Action.UPDATE, before, other)) == [
        Call("POST", path, {"token_ttl": 60}), Call("POST", f"{path}/role-id", {"role_id": "second"})
    ]
    assert KIND.calls(Change(rid, Action.CREATE, None, same))[1] == Call("POST", f"{path}/role-id", {"role_id": "first"})


# --- userpass password_hash -----------------------------------------------------------------------


def test_a_user_with_a_password_hash_logs_in_with_the_password(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = write_state(tmp_path, """
version: 1
auth_methods:
  userpass:
    type: userpass
    users:
      carol:
        password_hash: {env: CAROL_HASH}
        token_policies: [dev]
""")
    env = {"CAROL_HASH": PASSWORD_HASH}
    applied = cli("apply", "-f", str(state), "--auto-approve", env=env)
    assert applied.code == 0, applied.out + applied.err
    assert PASSWORD_HASH not in applied.out + applied.err  # write-only: never shown
    assert_no_changes(cli, state, env)
    ok = login(bao, "auth/userpass/login/carol", {"password": HASHED_PASSWORD})
    assert ok.status_code == 200 and ok.json()["auth"]["policies"] == ["default", "dev"], ok.text
    assert login(bao, "auth/userpass/login/carol", {"password": "wrong"}).status_code == 400


# --- jwt/oidc key sources -------------------------------------------------------------------------


def jwt_state(config: str) -> str:
    return f"""
version: 1
auth_methods:
  jwt:
    type: jwt
    config:
{config}
    roles:
      ci:
        role_type: jwt
        user_claim: sub
        bound_audiences: [vault]
        bound_claims_type: glob
        bound_claims: {{ref: "refs/heads/*"}}
        token_policies: [ci]
"""


def test_discovery_url_from_a_value_source_and_a_login_signed_by_the_provider(
    cli: Cli, bao: DevServer, tmp_path: Path, oidc: FakeOidc
) -> None:
    (tmp_path / "idp-ca.pem").write_text(oidc.ca_pem)
    state = write_state(tmp_path, jwt_state(
        "      oidc_discovery_url: {env: IDP_URL, sensitive: false}\n"
        "      oidc_discovery_ca_pem: {file: idp-ca.pem, sensitive: false}\n"
        "      bound_issuer: {env: IDP_URL, sensitive: false}\n"))
    env = {"IDP_URL": oidc.url}
    assert_applied(cli, state, env)
    assert_no_changes(cli, state, env)
    assert "/.well-known/openid-configuration" in oidc.requests  # OpenBao checked the provider
    assert read(bao, "auth/jwt/config")["oidc_discovery_url"] == oidc.url

    token = oidc.sign({"sub": "repo:org/app", "aud": "vault", "ref": "refs/heads/main"})
    ok = login(bao, "auth/jwt/login", {"role": "ci", "jwt": token})
    assert ok.status_code == 200 and "ci" in ok.json()["auth"]["policies"], ok.text
    other_branch = oidc.sign({"sub": "repo:org/app", "aud": "vault", "ref": "refs/tags/v1"})
    refused = login(bao, "auth/jwt/login", {"role": "ci", "jwt": other_branch})
    assert refused.status_code == 400 and "claim" in refused.text, refused.text


def test_jwks_url_config_accepts_the_providers_tokens(cli: Cli, bao: DevServer, tmp_path: Path, oidc: FakeOidc) -> None:
    state = write_state(tmp_path, jwt_state(
        f"      jwks_url: {oidc.url}/keys\n      jwks_ca_pem: {yaml_block(oidc.ca_pem, 8)}\n"))
    assert_applied(cli, state)
    assert_no_changes(cli, state)
    token = oidc.sign({"sub": "x", "aud": "vault", "ref": "refs/heads/dev"})
    assert login(bao, "auth/jwt/login", {"role": "ci", "jwt": token}).status_code == 200


def test_an_unreachable_discovery_url_fails_the_apply_with_openbaos_message(
    cli: Cli, tmp_path: Path, oidc: FakeOidc
) -> None:
    """Without the provider's CA, OpenBao cannot verify it and refuses the config."""
    state = write_state(tmp_path, jwt_state(f"      oidc_discovery_url: {oidc.url}\n"))
    result = cli("apply", "-f", str(state), "--auto-approve")
    assert result.code != 0
    assert "error checking oidc discovery URL" in result.out + result.err


# --- cert auth ------------------------------------------------------------------------------------


def client_cert(certs: tuple[Path, Path, Path], directory: Path, common_name: str) -> tuple[Path, Path]:
    """A client certificate signed by the `certs` fixture's CA, for TLS client authentication."""
    ca = certs[0]
    ca_key = ca.with_name("ca.key")
    cert, key = directory / f"{common_name}.pem", directory / f"{common_name}.key"
    run = lambda *args: subprocess.run(args, check=True, capture_output=True, cwd=directory)  # noqa: E731
    run("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", "client.csr",
        "-subj", f"/CN={common_name}/OU=Platform")
    (directory / "client.cnf").write_text("extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n")
    run("openssl", "x509", "-req", "-in", "client.csr", "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", "client.cnf")
    return cert, key


CERT = """
version: 1
auth_methods:
  cert:
    type: cert
    config:
      enable_identity_alias_metadata: true
    roles:
      web:
        certificate: {file: client-ca.pem, sensitive: false}
        allowed_common_names: [web.example.internal]
        allowed_organizational_units: [Platform]
        token_policies: [web]
"""


def test_cert_role_logs_in_a_matching_client_certificate_only(
    offline_cli: Cli, tls_bao: TlsServer, certs: tuple[Path, Path, Path], tmp_path: Path  # noqa: F811
) -> None:
    (tmp_path / "client-ca.pem").write_text(certs[0].read_text())
    state = write_state(tmp_path, CERT)
    env = {"VAULT_ADDR": tls_bao.address, "VAULT_TOKEN": tls_bao.token, "VAULT_CACERT": str(tls_bao.ca)}
    applied = offline_cli("apply", "-f", str(state), "--auto-approve", env=env)
    assert applied.code == 0, applied.out + applied.err
    planned = offline_cli("plan", "-f", str(state), "--detailed-exitcode", env=env)
    assert planned.code == 0, planned.out  # display_name: OpenBao stored "web" for the empty one

    url = f"{tls_bao.address}/v1/auth/cert/login"
    web = client_cert(certs, tmp_path, "web.example.internal")
    ok = requests.post(url, json={"name": "web"}, cert=(str(web[0]), str(web[1])), verify=str(tls_bao.ca), timeout=10)
    assert ok.status_code == 200 and "web" in ok.json()["auth"]["policies"], ok.text
    other = client_cert(certs, tmp_path, "other.example.internal")
    refused = requests.post(url, json={"name": "web"}, cert=(str(other[0]), str(other[1])),
                            verify=str(tls_bao.ca), timeout=10)
    assert refused.status_code in (400, 403), refused.text


def test_cert_defaults_that_openbao_stores_differently_plan_empty(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    """An unset display_name is stored as the role's name, an unset ocsp_cache_size reads back as 0
    (meaning 100): neither shows as a change, and setting them back to the default is a change."""
    state = write_state(tmp_path, f"""
version: 1
auth_methods:
  cert:
    type: cert
    config: {{}}
    roles:
      Web:
        certificate: {yaml_block(CA, 10)}
""")
    assert_applied(cli, state)
    assert_no_changes(cli, state)
    assert read(bao, "auth/cert/certs/web")["display_name"] == "web"
    assert read(bao, "auth/cert/config")["ocsp_cache_size"] in (0, 100)
    bao.request("POST", "auth/cert/certs/web", {"display_name": "renamed"})
    bao.request("POST", "auth/cert/config", {"ocsp_cache_size": 300})
    drifted = plan(cli, state)
    assert '~ display_name: "renamed" -> "web"' in drifted.out, drifted.out
    assert "~ config.ocsp_cache_size: 300 -> 100" in drifted.out, drifted.out
    assert_applied(cli, state)
    assert_no_changes(cli, state)


# --- mount options --------------------------------------------------------------------------------


def test_engine_options_are_set_merged_and_removed(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    text = """
version: 1
secrets_engines:
  transit:
    type: transit
    options: {team: payments, tier: gold}
"""
    state = write_state(tmp_path, text)
    assert_applied(cli, state)
    assert_no_changes(cli, state)
    assert read(bao, "sys/mounts/transit")["options"] == {"team": "payments", "tier": "gold"}
    write_state(tmp_path, text.replace("{team: payments, tier: gold}", "{team: platform}"))
    shown = plan(cli, state)
    assert '~ options.team: "payments" -> "platform"' in shown.out, shown.out
    assert '~ options.tier: "gold" -> (none)' in shown.out
    assert_applied(cli, state)
    assert read(bao, "sys/mounts/transit")["options"] == {"team": "platform"}  # tier removed
    assert_no_changes(cli, state)


# --- what OpenBao 2.7 accepts and drops (docs/openbao-and-vault.md) ----------------------------------


def test_openbao_accepts_fields_it_never_stores(bao: DevServer, tmp_path: Path) -> None:
    """The fields vault-state leaves out because OpenBao 2.7 does not keep them: each write succeeds,
    and no read returns the field. If one starts being kept, it should be declared."""
    dropped = {"delegated_auth_accessors": ["auth_x"], "identity_token_key": "default", "allowed_managed_keys": ["k"]}
    bao.request("POST", "sys/mounts/t", {"type": "transit", "config": dropped})
    bao.request("POST", "sys/mounts/t/tune", dropped)
    bao.request("POST", "sys/auth/ap", {"type": "approle", "config": dropped})
    mount, tune, auth = read(bao, "sys/mounts/t"), read(bao, "sys/mounts/t/tune"), read(bao, "sys/auth")["ap/"]
    for name in dropped:
        assert name not in mount and name not in mount["config"] and name not in tune and name not in auth["config"]

    bao.request("POST", "sys/auth/k8s", {"type": "kubernetes"})
    bao.request("POST", "auth/k8s/config", {"kubernetes_host": "https://k", "kubernetes_ca_cert": CA,
                                            "use_annotations_as_alias_metadata": True})
    assert "use_annotations_as_alias_metadata" not in read(bao, "auth/k8s/config")

    bao.request("POST", "sys/auth/jwt", {"type": "jwt"})
    key = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                         check=True, capture_output=True).stdout
    public = subprocess.run(["openssl", "pkey", "-pubout"], input=key, check=True, capture_output=True).stdout
    bao.request("POST", "auth/jwt/config", {"jwt_validation_pubkeys": [public.decode()],
                                            "jwks_pairs": [{"jwks_url": "https://idp.example/keys"}]})
    assert "jwks_pairs" not in read(bao, "auth/jwt/config")

    bao.request("POST", "sys/auth/cert", {"type": "cert"})
    bao.request("POST", "auth/cert/config", {"role_cache_size": 10})
    assert set(read(bao, "auth/cert/config")) == {"disable_binding", "enable_identity_alias_metadata", "ocsp_cache_size"}


def test_plugin_version_pins_cannot_be_removed_on_openbao(bao: DevServer) -> None:
    """Why vault-state does not manage plugin_version (docs/openbao-and-vault.md#plugin-versions)."""
    bao.request("POST", "sys/mounts/t", {"type": "transit"})
    builtin = read(bao, "sys/mounts/t")["running_plugin_version"]
    assert builtin.endswith("+builtin.bao") and read(bao, "sys/mounts/t")["plugin_version"] == ""
    bao.request("POST", "sys/mounts/t/tune", {"plugin_version": builtin})
    assert read(bao, "sys/mounts/t")["plugin_version"] == builtin
    refused = requests.post(f"{bao.address}/v1/sys/mounts/t/tune", json={"plugin_version": ""},
                            headers={"X-Vault-Token": bao.token}, timeout=10)
    assert refused.status_code == 400 and "not a valid semantic version" in refused.text
