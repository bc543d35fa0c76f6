"""--login approle and --login jwt against the real server: one login per run, its token revoked at exit."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from pathlib import Path

import requests
from conftest import Cli, write_state

from vault_state.sandbox import DevServer

ADMIN = 'path "*" { capabilities = ["create", "read", "update", "delete", "list", "sudo"] }'
STATE = """
version: 1
policies:
  reader: 'path "kv/data/*" { capabilities = ["read"] }'
"""


def accessors(bao: DevServer) -> set[str]:
    return set(bao.request("LIST", "auth/token/accessors").json()["data"]["keys"])


def setup_approle(bao: DevServer) -> dict[str, str]:
    bao.request("PUT", "sys/policies/acl/admin", {"policy": ADMIN})
    bao.request("POST", "sys/auth/approle", {"type": "approle"})
    bao.request("POST", "auth/approle/role/vs", {"token_policies": ["admin"], "token_ttl": "10m"})
    role_id = bao.request("GET", "auth/approle/role/vs/role-id").json()["data"]["role_id"]
    secret_id = bao.request("POST", "auth/approle/role/vs/secret-id").json()["data"]["secret_id"]
    return {"VAULT_TOKEN": "", "VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret_id}


def test_approle_login_runs_and_revokes_its_token(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    env = setup_approle(bao)
    state = str(write_state(tmp_path, STATE))
    before = accessors(bao)
    applied = cli("apply", "-f", state, "--auto-approve", "--login", "approle", env=env)
    assert applied.code == 0, applied.err
    assert bao.request("GET", "sys/policies/acl/reader").status_code == 200
    planned = cli("plan", "-f", state, "--login", "approle", "--detailed-exitcode", env=env)
    assert planned.code == 0, planned.err
    assert accessors(bao) == before  # every login's token was revoked
    assert env["VAULT_SECRET_ID"] not in applied.out + applied.err + planned.out + planned.err


def test_login_problems_are_clear_errors(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    state = str(write_state(tmp_path, STATE))
    missing = cli("plan", "-f", state, "--login", "approle", env={"VAULT_TOKEN": ""})
    assert (missing.code, missing.err.strip()) == (1, "error: VAULT_ROLE_ID is not set")
    env = setup_approle(bao)
    wrong = cli("plan", "-f", state, "--login", "approle", env={**env, "VAULT_SECRET_ID": "wrong-secret-id"})
    assert wrong.code == 1 and wrong.err.startswith("error: POST auth/approle/login: HTTP 400: ")
    assert "wrong-secret-id" not in wrong.err
    no_role = cli("plan", "-f", state, "--login", "jwt", env={"VAULT_TOKEN": ""})
    assert no_role.err.strip() == "error: --login jwt needs a role: pass --login-role or set VAULT_LOGIN_ROLE"
    no_file = cli("plan", "-f", state, "--login", "kubernetes", "--login-role", "r",
                  "--login-jwt-file", str(tmp_path / "none"), env={"VAULT_TOKEN": ""})
    assert no_file.err.strip() == f"error: cannot read the service account token {tmp_path / 'none'}: No such file or directory"


def _b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_jwt(key: Path, claims: dict[str, object]) -> str:
    """An RS256 JWT signed with openssl (no JWT library needed)."""
    signing_input = f"{_b64u(json.dumps({'alg': 'RS256', 'typ': 'JWT'}).encode())}.{_b64u(json.dumps(claims).encode())}"
    signature = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key)], input=signing_input.encode(),
                               capture_output=True, check=True).stdout
    return f"{signing_input}.{_b64u(signature)}"


def test_jwt_login_runs_and_revokes_its_token(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    key, public = tmp_path / "key.pem", tmp_path / "pub.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], capture_output=True, check=True)
    subprocess.run(["openssl", "rsa", "-in", str(key), "-pubout", "-out", str(public)], capture_output=True, check=True)
    bao.request("PUT", "sys/policies/acl/admin", {"policy": ADMIN})
    bao.request("POST", "sys/auth/ci-jwt", {"type": "jwt"})
    bao.request("POST", "auth/ci-jwt/config", {"jwt_validation_pubkeys": [public.read_text()], "bound_issuer": "ci"})
    bao.request("POST", "auth/ci-jwt/role/deploy", {
        "role_type": "jwt", "user_claim": "sub", "bound_audiences": ["vault-state"], "token_policies": ["admin"],
    })
    now = int(time.time())
    token = signed_jwt(key, {"iss": "ci", "sub": "pipeline-42", "aud": "vault-state", "iat": now, "exp": now + 300})
    env = {"VAULT_TOKEN": "", "VAULT_JWT": token, "VAULT_LOGIN_ROLE": "deploy"}
    state = str(write_state(tmp_path, STATE))
    before = accessors(bao)
    applied = cli("apply", "-f", state, "--auto-approve", "--login", "jwt", "--login-mount", "ci-jwt", env=env)
    assert applied.code == 0, applied.err
    assert accessors(bao) == before
    assert token not in applied.out + applied.err


def test_a_long_run_renews_its_token(bao: DevServer) -> None:
    from vault_state.vault.connection import connection_from
    from vault_state.vault.login import LoginSettings, logged_in

    env = setup_approle(bao)
    bao.request("POST", "auth/approle/role/vs", {"token_ttl": "2s", "token_max_ttl": "1m"})
    connection = connection_from({"VAULT_ADDR": bao.address, "VAULT_TOKEN": "(login)"})
    with logged_in(connection, LoginSettings("approle"), env) as token:
        time.sleep(3.5)  # longer than the token's 2 s TTL: only renewals keep it alive
        # an expired token would make this 403 "bad token"
        assert _lookup(bao, token.reveal()) == 200, "the token expired: it was not renewed"
    assert _lookup(bao, token.reveal()) == 403  # revoked at the end of the block


def _lookup(bao: DevServer, token: str) -> int:
    response = requests.post(
        f"{bao.address}/v1/auth/token/lookup", json={"token": token}, headers={"X-Vault-Token": bao.token}, timeout=10
    )
    return response.status_code


def test_kubernetes_login_through_the_token_review(
    cli: Cli, bao: DevServer, tmp_path: Path, certs: tuple[Path, Path, Path]
) -> None:
    from kube_fake import DEFAULT_AUDIENCE, FakeKube

    fake = FakeKube(*certs).start()
    try:
        fake.add_service_account("ci", "vault-state", reviewer=True)
        bao.request("PUT", "sys/policies/acl/admin", {"policy": ADMIN})
        bao.request("POST", "sys/auth/kubernetes", {"type": "kubernetes"})
        bao.request("POST", "auth/kubernetes/config", {
            "kubernetes_host": fake.url, "kubernetes_ca_cert": fake.ca_pem, "disable_local_ca_jwt": True,
        })
        bao.request("POST", "auth/kubernetes/role/deployer", {
            "bound_service_account_names": ["vault-state"], "bound_service_account_namespaces": ["ci"],
            "token_policies": ["admin"], "token_ttl": "10m",
        })
        jwt_file = tmp_path / "token"
        jwt_file.write_text(fake.issue("ci", "vault-state", [DEFAULT_AUDIENCE], 600))
        before = accessors(bao)
        state = str(write_state(tmp_path, STATE))
        login = ("--login", "kubernetes", "--login-role", "deployer", "--login-jwt-file", str(jwt_file))
        applied = cli("apply", "-f", state, "--auto-approve", *login, env={"VAULT_TOKEN": ""})
        assert applied.code == 0, applied.err
        assert cli("plan", "-f", state, "--detailed-exitcode", *login, env={"VAULT_TOKEN": ""}).code == 0
        assert ("POST", "/apis/authentication.k8s.io/v1/tokenreviews") in fake.calls
        assert accessors(bao) == before  # each run's token was revoked
        assert jwt_file.read_text() not in applied.out + applied.err
    finally:
        fake.stop()
