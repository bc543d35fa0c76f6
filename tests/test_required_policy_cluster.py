"""The GitOps shape of `required-policy`: the state file declares vault-state's own policy (kept
beside it with `--format yaml -o`) and the kubernetes auth role it logs in with; after one apply
by an administrator, vault-state logs in as that role (fake Kubernetes API, tests/kube_fake.py),
with no default policy, and repairs drift on its own."""

from __future__ import annotations

from pathlib import Path

from conftest import Cli
from test_login import accessors

from vault_state.sandbox import DevServer

STATE = """
version: 1
stack: platform
prune: {policies: owned, auth_roles: owned}
lint: {admin_policies: [vault-state]}
secrets_engines:
  secret: {type: kv, version: 2, kv_config: {max_versions: 10}}
policies:
  eso-policy: 'path "secret/data/*" { capabilities = ["read"] }'
auth_methods:
  kubernetes:
    type: kubernetes
    config:
      kubernetes_host: KUBE_URL
      kubernetes_ca_cert: {file: kube-ca.crt, sensitive: false}
      disable_local_ca_jwt: true
    roles:
      vault-state:
        bound_service_account_names: [vault-state]
        bound_service_account_namespaces: [vault-system]
        audience: https://kubernetes.default.svc.cluster.local
        token_policies: [vault-state]
        token_no_default_policy: true
        token_ttl: 10m
"""


def test_the_file_declares_the_policy_and_role_vault_state_runs_with(
    cli: Cli, bao: DevServer, tmp_path: Path, certs: tuple[Path, Path, Path]
) -> None:
    from kube_fake import DEFAULT_AUDIENCE, FakeKube

    fake = FakeKube(*certs).start()
    try:
        fake.add_service_account("vault-system", "vault-state", reviewer=True)
        base = tmp_path / "base"
        base.mkdir()
        (base / "kube-ca.crt").write_text(fake.ca_pem)
        (base / "platform.yaml").write_text(STATE.replace("KUBE_URL", fake.url))
        policy_file = base / "vault-state-policy.yaml"
        made = cli("required-policy", "-f", str(base), "--login", "kubernetes", "--format", "yaml", "-o", str(policy_file))
        assert made.code == 0 and made.out == "", made
        first = policy_file.read_text()
        assert first.splitlines()[5:8] == ["version: 1", "policies:", "  vault-state: |"]
        assert '    path "sys/policies/acl/vault-state" {' in first and '    path "auth/token/revoke-self" {' in first
        # Made again from the directory that now holds it: the same file.
        assert cli("required-policy", "-f", str(base), "--login", "kubernetes", "--format", "yaml").out == first
        assert cli("lint", "-f", str(base), "--strict").code == 0

        bootstrap = cli("apply", "-f", str(base), "--auto-approve")  # an administrator, once
        assert bootstrap.code == 0, bootstrap.err
        jwt = tmp_path / "token"
        jwt.write_text(fake.issue("vault-system", "vault-state", [DEFAULT_AUDIENCE], 600))
        login = ("--login", "kubernetes", "--login-role", "vault-state", "--login-jwt-file", str(jwt))
        before = accessors(bao)
        bao.request("PUT", "sys/policies/acl/eso-policy", {"policy": 'path "secret/*" { capabilities = ["read"] }'})
        bao.request("POST", "auth/kubernetes/role/vault-state", {"token_ttl": "1h"})
        repaired = cli("apply", "-f", str(base), "--auto-approve", *login, env={"VAULT_TOKEN": ""})
        assert repaired.code == 0, repaired.out[-2000:] + repaired.err
        assert "0 added, 2 changed, 0 destroyed" in repaired.out
        again = cli("plan", "-f", str(base), "--detailed-exitcode", *login, env={"VAULT_TOKEN": ""})
        assert again.code == 0 and "No changes." in again.out, again
        assert accessors(bao) == before  # each run revoked its own token (revoke-self is in the policy)
    finally:
        fake.stop()
