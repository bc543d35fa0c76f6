"""Kubernetes integration against a fake Kubernetes API (tests/kube_fake.py) and the real OpenBao server.

OpenBao is pointed at the fake API as kubernetes_host, so `verify` logs in for real: OpenBao calls
TokenReview on the fake, which authenticates only the tokens it issued through TokenRequest.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli, read
from tests.kube_fake import FakeKube
from vault_state.sandbox import DevServer


@pytest.fixture
def kube(certs: tuple[Path, Path, Path], tmp_path: Path) -> Iterator[FakeKube]:
    fake = FakeKube(*certs).start()
    fake.add_service_account("external-secrets", "external-secrets")
    fake.add_service_account("vault", "vault-reviewer", reviewer=True)
    fake.kubeconfig(tmp_path / "kubeconfig")
    try:
        yield fake
    finally:
        fake.stop()


def kube_env(tmp_path: Path) -> dict[str, str]:
    return {"KUBECONFIG": str(tmp_path / "kubeconfig")}


def state(fake: FakeKube, *, namespaces: str = "[external-secrets]", extra: str = "", checks: str = "") -> str:
    return f"""\
version: 1
secrets_engines:
  secret: {{type: kv, version: 2}}
policies:
  eso-policy: |
    path "secret/data/*" {{ capabilities = ["read"] }}
auth_methods:
  kubernetes:
    type: kubernetes
    config:
      kubernetes_host: {fake.url}
      kubernetes_ca_cert: {{kubernetes: ca_cert}}
      token_reviewer_jwt: {{kubernetes: token, namespace: vault, service_account: vault-reviewer}}
      disable_local_ca_jwt: true
    roles:
      eso-role:
        bound_service_account_names: [external-secrets]
        bound_service_account_namespaces: {namespaces}
        token_policies: [eso-policy]
        token_ttl: 1h
        audience: vault
{extra}checks:
{checks or CHECKS}"""


CHECKS = """\
  - name: ESO reads application secrets
    login: {auth_method: kubernetes, role: eso-role, service_account: {namespace: external-secrets, name: external-secrets}}
    allow: {"secret/data/test-app": [read]}
    deny: {"secret/data/test-app": [update, delete], "sys/policies/acl/eso-policy": [update]}
  - name: eso-policy alone
    policies: [eso-policy]
    allow: {"secret/data/app/db": [read]}
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "state.yaml"
    path.write_text(text)
    return str(path)


def assert_no_cluster_token(fake: FakeKube, *outputs: str) -> None:
    assert fake.issued, "the test should have made the fake issue tokens"
    for token in fake.issued:
        for output in outputs:
            assert token not in output
            assert token.split(".")[1] not in output


# --- verify: a real kubernetes-auth login ---------------------------------------------------------


def test_apply_verify_logs_in_through_the_fake_cluster(cli: Cli, kube: FakeKube, tmp_path: Path) -> None:
    file = write(tmp_path, state(kube))
    result = cli("apply", "-f", file, "--auto-approve", "--verify", env=kube_env(tmp_path))
    assert result.code == 0, result.err
    assert result.out.endswith(
        "Apply complete! Resources: 4 added, 0 changed, 0 destroyed.\n"
        "ok    ESO reads application secrets\n"
        "ok    eso-policy alone\n"
        "verify: 2 passed, 0 failed\n"
    )
    # OpenBao reviewed the login token with the fake API; the reviewer JWT came from TokenRequest.
    assert ("POST", "/apis/authentication.k8s.io/v1/tokenreviews") in kube.calls
    again = cli("verify", "-f", file, env=kube_env(tmp_path))
    assert (again.code, again.out) == (0, "ok    ESO reads application secrets\nok    eso-policy alone\n"
                                           "verify: 2 passed, 0 failed\n")
    assert_no_cluster_token(kube, result.out, result.err, again.out, again.err)


def test_verify_revokes_the_tokens_it_makes(cli: Cli, bao: DevServer, kube: FakeKube, tmp_path: Path) -> None:
    file = write(tmp_path, state(kube))
    assert cli("apply", "-f", file, "--auto-approve", env=kube_env(tmp_path)).code == 0
    before = bao.request("LIST", "auth/token/accessors").json()["data"]["keys"]
    assert cli("verify", "-f", file, env=kube_env(tmp_path)).code == 0
    assert bao.request("LIST", "auth/token/accessors").json()["data"]["keys"] == before


def test_verify_fails_on_wrong_namespace_binding_and_missing_capability(
    cli: Cli, kube: FakeKube, tmp_path: Path
) -> None:
    checks = CHECKS + """\
  - name: ESO finds secrets
    policies: [eso-policy]
    allow: {"secret/metadata/app": [list]}
    deny: {"secret/data/app/db": [read]}
"""
    file = write(tmp_path, state(kube, namespaces="[apps]", checks=checks))
    assert cli("apply", "-f", file, "--auto-approve", env=kube_env(tmp_path)).code == 0
    result = cli("verify", "-f", file, env=kube_env(tmp_path))
    assert result.code == 1
    assert result.out == (
        "FAIL  ESO reads application secrets\n"
        "      login as service account external-secrets/external-secrets with role 'eso-role' refused: "
        "POST auth/kubernetes/login: HTTP 403: namespace not authorized\n"
        "ok    eso-policy alone\n"
        "FAIL  ESO finds secrets\n"
        "      secret/metadata/app: list is denied, expected allowed (capabilities: deny)\n"
        "      secret/data/app/db: read is allowed, expected denied (capabilities: read)\n"
        "verify: 1 passed, 2 failed\n"
    )
    assert_no_cluster_token(kube, result.out, result.err)


def test_verify_without_checks_is_an_error(cli: Cli, tmp_path: Path) -> None:
    file = write(tmp_path, "version: 1\n")
    result = cli("verify", "-f", file)
    assert (result.code, result.err) == (1, "error: the state file has no checks: nothing to verify\n")


def test_check_references_are_validated(offline_cli: Cli, tmp_path: Path) -> None:
    file = write(tmp_path, """\
version: 1
auth_methods:
  approle: {type: approle}
  kubernetes:
    type: kubernetes
    roles:
      r: {bound_service_account_names: [a], bound_service_account_namespaces: [b], audience: vault}
checks:
  - name: wrong method
    login: {auth_method: approle, role: x, service_account: {namespace: a, name: b}}
    allow: {"secret/data/x": [read]}
  - name: wrong role
    login: {auth_method: kubernetes, role: x, service_account: {namespace: a, name: b}}
    allow: {"secret/data/x": [read]}
  - name: unknown policy
    policies: [nope]
    deny: {"secret/data/x": [read]}
""")
    result = offline_cli("validate", "-f", file)
    assert result.code == 1
    assert result.err == (
        f"{file}:10:26: auth method 'approle' has type approle; expected kubernetes\n"
        f"{file}:13:44: auth method 'kubernetes' has no role 'x' in this file\n"
    )


def test_a_check_needs_one_subject(offline_cli: Cli, tmp_path: Path) -> None:
    file = write(tmp_path, """\
version: 1
checks:
  - name: both
    login: {auth_method: kubernetes, role: x, service_account: {namespace: a, name: b}}
    policies: [p]
    allow: {"secret/data/x": [read]}
  - name: nothing to check
    policies: [p]
""")
    result = offline_cli("validate", "-f", file)
    assert result.code == 1
    assert result.err == (
        f"{file}:3:5: checks: a check needs exactly one of 'login' or 'policies'\n"
        f"{file}:7:5: checks: a check needs 'allow' or 'deny'\n"
    )


# --- value sources from the cluster ---------------------------------------------------------------


def test_ca_and_token_sources_reach_the_server_and_stay_secret(
    cli: Cli, bao: DevServer, kube: FakeKube, tmp_path: Path
) -> None:
    file = write(tmp_path, state(kube).replace(
        "{kubernetes: ca_cert}", "{kubernetes: ca_cert, configmap_namespace: vault}"))
    result = cli("apply", "-f", file, "--auto-approve", env=kube_env(tmp_path))
    assert result.code == 0, result.err
    config = read(bao, "auth/kubernetes/config")
    assert config["kubernetes_ca_cert"] == kube.ca_pem
    assert config["token_reviewer_jwt_set"] is True
    assert kube.ca_pem.splitlines()[1] not in result.out  # the create shows the desired side: (sensitive)
    assert ("GET", "/api/v1/namespaces/vault/configmaps/kube-root-ca.crt") in kube.calls
    json_plan = cli("plan", "-f", file, "--json", "-o", str(tmp_path / "plan.json"), env=kube_env(tmp_path))
    assert json_plan.code == 0
    saved = (tmp_path / "plan.json").read_text()
    # A new token each run: a saved plan does not go stale because of it.
    assert cli("apply", str(tmp_path / "plan.json"), env=kube_env(tmp_path)).code == 0
    assert_no_cluster_token(kube, result.out, result.err, json_plan.out, json_plan.err, saved)


def test_short_lived_reviewer_token_warns_in_plan(cli: Cli, kube: FakeKube, tmp_path: Path) -> None:
    file = write(tmp_path, state(kube))
    result = cli("plan", "-f", file, env=kube_env(tmp_path))
    assert result.code == 0
    assert (
        f"{file}:13:27: warning: token_reviewer_jwt comes from a short-lived token (TokenRequest API): when it "
        "expires, every login through auth/kubernetes fails; use a long-lived token instead (a Secret of type "
        "kubernetes.io/service-account-token for the reviewer's service account, read with {file: ...} or "
        "{env: ...}), or leave token_reviewer_jwt unset so Vault, running in the cluster, reviews tokens with "
        "its own pod's service account token [short-lived-reviewer]\n"
    ) in result.err


def test_reviewer_jwt_with_an_expiry_warns_in_plan(cli: Cli, kube: FakeKube, tmp_path: Path) -> None:
    jwt = kube.issue("vault", "vault-reviewer", ["https://kubernetes.default.svc.cluster.local"], 3600)
    file = write(tmp_path, state(kube).replace(
        "{kubernetes: token, namespace: vault, service_account: vault-reviewer}", "{env: REVIEWER}"))
    result = cli("plan", "-f", file, env={**kube_env(tmp_path), "REVIEWER": jwt})
    assert result.code == 0
    assert f"{file}:13:27: warning: token_reviewer_jwt expires (it has an exp claim)" in result.err
    assert_no_cluster_token(kube, result.out, result.err)


def test_cluster_source_problems_are_located(cli: Cli, kube: FakeKube, tmp_path: Path) -> None:
    file = write(tmp_path, state(kube).replace("service_account: vault-reviewer", "service_account: nobody"))
    missing = cli("plan", "-f", file, env=kube_env(tmp_path))
    assert missing.code == 1
    assert missing.err == (f"{file}:13:27: Kubernetes API: create token for serviceaccount vault/nobody: "
                           "HTTP 404 Not Found\n")
    no_cluster = cli("plan", "-f", file, env={"KUBECONFIG": str(tmp_path / "none")})
    assert no_cluster.err == (
        f"{file}:12:27: no Kubernetes cluster: set KUBECONFIG, create ~/.kube/config, or run in a pod\n"
        f"{file}:13:27: no Kubernetes cluster: set KUBECONFIG, create ~/.kube/config, or run in a pod\n"
    )


def test_kube_context_flag_chooses_the_context(cli: Cli, kube: FakeKube, tmp_path: Path) -> None:
    file = write(tmp_path, state(kube))
    result = cli("plan", "-f", file, "--kube-context", "broken", env=kube_env(tmp_path))
    assert result.code == 1
    assert result.err == (f"{file}:13:27: Kubernetes API: create token for serviceaccount vault/vault-reviewer: "
                          "cannot reach https://127.0.0.1:1: MaxRetryError\n")
    unknown = cli("plan", "-f", file, "--kube-context", "nope", env=kube_env(tmp_path))
    assert unknown.code == 1
    assert unknown.err.splitlines()[0] == (
        f"{file}:12:27: cannot use the Kubernetes configuration: Invalid kube-config file. Expected object with "
        f"name nope in {tmp_path}/kubeconfig/contexts list")


def test_value_source_shapes_are_checked(offline_cli: Cli, tmp_path: Path) -> None:
    file = write(tmp_path, """\
version: 1
auth_methods:
  kubernetes:
    type: kubernetes
    config:
      kubernetes_host: https://k8s
      kubernetes_ca_cert: {kubernetes: ca_cert, namespace: x}
      token_reviewer_jwt: {kubernetes: token, namespace: vault, service_account: r, expiration: 5m}
""")
    result = offline_cli("validate", "-f", file)
    assert result.code == 1
    assert result.err == (
        f"{file}:7:40: unknown key 'namespace'\n"
        f"{file}:8:40: expiration: the TokenRequest API refuses an expiration below 10m (600 seconds)\n"
    )


def test_eso_manifests_take_the_ca_bundle_from_the_cluster(offline_cli: Cli, kube: FakeKube, tmp_path: Path) -> None:
    from tests.test_eso import documents, validate_manifest

    file = write(tmp_path, state(kube, extra="""\
external_secrets:
  server: https://vault.vault.svc:8200
  ca_cert: {kubernetes: ca_cert, configmap_namespace: vault}
  stores:
    - {name: vault-backend, secrets_engine: secret, auth_method: kubernetes, role: eso-role}
"""))
    result = offline_cli("eso-manifests", "-f", file, env=kube_env(tmp_path))
    assert (result.code, result.err) == (0, "")
    (store,) = documents(result.out)
    assert base64.b64decode(store["spec"]["provider"]["vault"]["caBundle"]).decode() == kube.ca_pem
    validate_manifest(store)
