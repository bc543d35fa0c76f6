"""`vault-state doctor` against the real OpenBao server and the fake Kubernetes API."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, Cli
from tests.kube_fake import FakeKube
from vault_state.sandbox import DevServer


@pytest.fixture
def kube(certs: tuple[Path, Path, Path], tmp_path: Path) -> Iterator[FakeKube]:
    fake = FakeKube(*certs).start()
    fake.add_service_account("external-secrets", "external-secrets")
    fake.kubeconfig(tmp_path / "kubeconfig")
    try:
        yield fake
    finally:
        fake.stop()


def doctor_state(fake: FakeKube, ca: str = "{kubernetes: ca_cert}") -> str:
    return f"""\
version: 1
policies:
  eso-policy: |
    path "secret/data/*" {{ capabilities = ["read"] }}
auth_methods:
  kubernetes:
    type: kubernetes
    config:
      kubernetes_host: {fake.url}
      kubernetes_ca_cert: {ca}
      token_reviewer_jwt: {{kubernetes: token, namespace: vault, service_account: vault-reviewer}}
      disable_local_ca_jwt: true
    roles:
      eso-role:
        bound_service_account_names: [external-secrets, eso-other]
        bound_service_account_namespaces: [external-secrets]
        token_policies: [eso-policy]
"""


def run(cli: Cli, tmp_path: Path, text: str, *args: str) -> tuple[int, str, str]:
    (tmp_path / "state.yaml").write_text(text)
    result = cli("doctor", "-f", str(tmp_path / "state.yaml"), *args,
                 env={"KUBECONFIG": str(tmp_path / "kubeconfig")})
    return result.code, result.out, result.err


def test_doctor_all_ok(cli: Cli, bao: DevServer, kube: FakeKube, tmp_path: Path) -> None:
    kube.add_service_account("external-secrets", "eso-other")
    kube.add_service_account("vault", "vault-reviewer", reviewer=True)
    text = doctor_state(kube).replace("token_policies: [eso-policy]", "token_policies: [eso-policy]\n        audience: vault")
    code, out, _ = run(cli, tmp_path, text)
    assert (code, out) == (0, f"""\
ok    server {bao.address} is reachable and unsealed (version 2.7.2)
ok    the token may read what plan needs (5 paths)
ok    cluster: connected through kubeconfig {tmp_path}/kubeconfig
ok    serviceaccount external-secrets/external-secrets (bound by auth/kubernetes role 'eso-role') exists
ok    serviceaccount external-secrets/eso-other (bound by auth/kubernetes role 'eso-role') exists
ok    auth/kubernetes: reviewer vault/vault-reviewer may create tokenreviews
ok    auth/kubernetes: {kube.url} is reachable and its certificate verifies with kubernetes_ca_cert
doctor: 7 ok, 0 warn, 0 fail
""")


def test_doctor_reports_missing_account_rbac_audience_and_wrong_ca(
    cli: Cli, bao: DevServer, kube: FakeKube, tmp_path: Path
) -> None:
    kube.add_service_account("vault", "vault-reviewer")  # no system:auth-delegator binding
    (tmp_path / "other-ca.crt").write_text((EXAMPLES / "ca.crt").read_text())
    code, out, _ = run(cli, tmp_path, doctor_state(kube, ca="{file: other-ca.crt}"))
    assert code == 1
    assert out == f"""\
ok    server {bao.address} is reachable and unsealed (version 2.7.2)
ok    the token may read what plan needs (5 paths)
warn  auth/kubernetes role 'eso-role' has no audience: tokens for any audience can log in
      fix: set audience (e.g. vault) on the role; eso-manifests then requests tokens for it
ok    cluster: connected through kubeconfig {tmp_path}/kubeconfig
ok    serviceaccount external-secrets/external-secrets (bound by auth/kubernetes role 'eso-role') exists
fail  serviceaccount external-secrets/eso-other (bound by auth/kubernetes role 'eso-role') does not exist
      fix: kubectl -n external-secrets create serviceaccount eso-other, or correct the role's bound_service_account_names / bound_service_account_namespaces
fail  auth/kubernetes: reviewer vault/vault-reviewer may not create tokenreviews.authentication.k8s.io, so every login fails
      fix: kubectl create clusterrolebinding vault-reviewer-tokenreview --clusterrole=system:auth-delegator --serviceaccount=vault:vault-reviewer
fail  auth/kubernetes: {kube.url} answers, but its certificate does not verify with kubernetes_ca_cert
      fix: set kubernetes_ca_cert to the cluster's CA, e.g. {{kubernetes: ca_cert}}
doctor: 4 ok, 1 warn, 3 fail
"""


def test_doctor_without_a_cluster_or_a_usable_token(cli: Cli, bao: DevServer, tmp_path: Path) -> None:
    (tmp_path / "state.yaml").write_text("""\
version: 1
auth_methods:
  kubernetes:
    type: kubernetes
    roles:
      r: {bound_service_account_names: [a], bound_service_account_namespaces: [b], audience: vault}
""")
    result = cli("doctor", "-f", str(tmp_path / "state.yaml"), "--token", "not-a-token",
                 env={"KUBECONFIG": str(tmp_path / "missing")})
    assert result.code == 1
    assert result.out == f"""\
ok    server {bao.address} is reachable and unsealed (version 2.7.2)
fail  the token cannot be used (HTTP 403): expired, revoked or wrong
      fix: log in again or set VAULT_TOKEN / --token
fail  cluster: no Kubernetes cluster: set KUBECONFIG, create ~/.kube/config, or run in a pod
      fix: set KUBECONFIG or pass --kube-context
doctor: 1 ok, 0 warn, 2 fail
"""


def test_doctor_names_an_unreachable_server(offline_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "state.yaml").write_text("version: 1\n")
    result = offline_cli("doctor", "-f", str(tmp_path / "state.yaml"), "--address", "http://127.0.0.1:1",
                         "--token", "t")
    assert result.code == 1
    assert result.out == (
        "fail  server http://127.0.0.1:1: cannot reach http://127.0.0.1:1: connection refused\n"
        "      fix: check VAULT_ADDR / --address, the network and VAULT_CACERT\n"
        "doctor: 0 ok, 0 warn, 1 fail\n"
    )
